// The floor for `aibc compile`: a process that only reads the spec file. Built with the
// same optimisation level, so the ratio measures aibc's own work.
fn main() {
    let path = std::env::args().nth(1).expect("a file to read");
    let text = std::fs::read_to_string(path).expect("readable");
    std::hint::black_box(text);
}
