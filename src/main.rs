use clap::Parser;

fn main() -> std::process::ExitCode {
    certverify::cli::Cli::parse().run()
}
