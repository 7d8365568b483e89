// The embedded migrations are read at compile time; a new migration folder must rebuild.
fn main() {
    println!("cargo:rerun-if-changed=migrations");
}
