use clap::Parser;

/// glibc's malloc took about a tenth of the CPU in the issuing benchmark (its arenas
/// contend and fragment as tokio moves tasks between threads); mimalloc is a drop-in.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    certverify::cli::Cli::parse().run()
}
