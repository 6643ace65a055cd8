/// mimalloc: the phone path allocates many small short-lived buffers per request, and glibc's
/// allocator showed as a tenth of the server's CPU under keep-alive load (BENCHMARKS.md).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    deskprov::cli::main()
}
