//! `deskprov serve`: starts the server and runs it until SIGTERM or Ctrl-C.

use std::process::ExitCode;

use crate::config::Config;

pub async fn serve(config: Config) -> ExitCode {
    crate::telemetry::init(&config.server.log, config.server.log_format);
    let stop = crate::startup::ShutdownSignal::install();
    let running = match crate::startup::start(config, crate::clock::Clock::System).await {
        Ok(running) => running,
        Err(e) => {
            tracing::error!("cannot start: {e}");
            eprintln!("error: {e}");
            return ExitCode::FAILURE;
        }
    };
    stop.received().await;
    running.stop().await;
    ExitCode::SUCCESS
}
