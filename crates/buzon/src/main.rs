fn main() -> std::process::ExitCode {
    buzon::main_entry()
}
