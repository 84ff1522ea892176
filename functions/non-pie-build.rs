//! Links the Lambda executable position-dependent on Linux: no dynamic relocation table, about
//! 0.8 MB less to ship and load. Only this binary: proc-macros and build scripts stay PIC.
fn main() {
    if std::env::var("CARGO_CFG_TARGET_OS").as_deref() == Ok("linux") {
        println!("cargo:rustc-link-arg-bins=-no-pie");
    }
}
