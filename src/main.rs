fn main() -> std::process::ExitCode {
    deskprov::cli::main()
}
