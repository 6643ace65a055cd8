// The shipped phone templates are embedded with include_dir, which cannot tell cargo to
// rebuild when they change; this does.
fn main() {
    println!("cargo:rerun-if-changed=phone-templates");
}
