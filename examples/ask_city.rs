//! Asks a question about the synthetic city in natural language, through a chat model on an
//! OpenAI-compatible server, and prints the SQL that ran and its result.
//!
//! ```text
//! cargo run --example ask_city -- --endpoint http://127.0.0.1:8080 \
//!     --question "Which station had the highest mean PM2.5?"
//! ```
//!
//! The tables are `readings` (hourly pollutants per station), `weather` and `tickets`
//! (service tickets). The query policy hides the free text of the tickets, which holds
//! personal data, so neither the prompt nor the SQL can read it.

#![expect(
    clippy::print_stdout,
    clippy::print_stderr,
    reason = "an example program reports to its terminal"
)]

use std::sync::Arc;

use datafusion::arrow::util::pretty::pretty_format_batches;
use datafusion::prelude::SessionContext;
use governance::analyze::question::{QueryPolicy, QuestionAnswerer, QuestionConfig};
use governance::collect::{SyntheticCity, SyntheticConfig};
use governance::llm::chat::{ChatClient, ChatClientConfig};

const USAGE: &str = "\
usage: ask_city [--endpoint URL] [--model NAME] [--question TEXT] [--api-key-env NAME]
                [--stream] [--days N] [--max-rows N] [--timeout-ms N]

Answers a question about the synthetic city with SQL written by a chat model.

  --endpoint URL      base URL of an OpenAI-compatible server, such as
                      http://127.0.0.1:8080 (the client appends /v1/chat/completions)
  --model NAME        model name sent to the server (default: default)
  --question TEXT     the question (default: Which station had the highest mean PM2.5?)
  --api-key-env NAME  environment variable that holds the API key, if the server needs one
  --stream            request a streamed reply
  --days N            days of synthetic data (default: 7)
  --max-rows N        rows returned at most (default: 20)
  --timeout-ms N      time limit of the chat request and of the query, in ms (default: 120000)";

const NO_ENDPOINT: &str = "\
No --endpoint given, so no question was asked.

Point the example at a local OpenAI-compatible server (plain HTTP), for example:

  llama.cpp:  llama-server -m MODEL.gguf --port 8080
  Ollama:     ollama serve            (then --endpoint http://127.0.0.1:11434 --model NAME)
  vLLM:       vllm serve MODEL --port 8000

and run:

  cargo run --example ask_city -- --endpoint http://127.0.0.1:8080 \\
      --question \"Which station had the highest mean PM2.5?\"";

/// Parsed options.
struct Options {
    endpoint: Option<String>,
    model: String,
    question: String,
    api_key_env: Option<String>,
    stream: bool,
    days: u32,
    max_rows: u64,
    timeout_ms: u64,
}

fn value<T: std::str::FromStr>(flag: &str, raw: Option<String>) -> Result<T, String> {
    let raw = raw.ok_or_else(|| format!("option {flag} needs a value\n\n{USAGE}"))?;
    raw.parse()
        .map_err(|_| format!("invalid value {raw:?} for {flag}\n\n{USAGE}"))
}

/// Parses the arguments; `Ok(None)` means help was requested.
fn parse(mut args: impl Iterator<Item = String>) -> Result<Option<Options>, String> {
    let mut options = Options {
        endpoint: None,
        model: "default".to_string(),
        question: "Which station had the highest mean PM2.5?".to_string(),
        api_key_env: None,
        stream: false,
        days: 7,
        max_rows: 20,
        timeout_ms: 120_000,
    };
    while let Some(flag) = args.next() {
        match flag.as_str() {
            "--endpoint" => options.endpoint = Some(value(&flag, args.next())?),
            "--model" => options.model = value(&flag, args.next())?,
            "--question" => options.question = value(&flag, args.next())?,
            "--api-key-env" => options.api_key_env = Some(value(&flag, args.next())?),
            "--stream" => options.stream = true,
            "--days" => options.days = value(&flag, args.next())?,
            "--max-rows" => options.max_rows = value(&flag, args.next())?,
            "--timeout-ms" => options.timeout_ms = value(&flag, args.next())?,
            "--help" | "-h" => return Ok(None),
            other => return Err(format!("unknown option {other:?}\n\n{USAGE}")),
        }
    }
    Ok(Some(options))
}

/// Registers the city's readings, weather and tickets as tables.
fn city_tables(days: u32) -> Result<SessionContext, Box<dyn std::error::Error>> {
    let city = SyntheticCity::new(SyntheticConfig {
        days,
        ..SyntheticConfig::default()
    })?;
    let mut readings = Vec::new();
    let mut weather = Vec::new();
    let mut tickets = Vec::new();
    for index in 0..city.batch_count() {
        readings.push(city.sensor_batch(index)?.data().clone());
        weather.push(city.weather_batch(index)?.data().clone());
        tickets.push(city.ticket_batch(index)?.data().clone());
    }
    let context = SessionContext::new();
    let tables = [
        ("readings", SyntheticCity::sensor_schema(), readings),
        ("weather", SyntheticCity::weather_schema(), weather),
        ("tickets", SyntheticCity::ticket_schema(), tickets),
    ];
    for (name, empty_schema, batches) in tables {
        let schema = batches.first().map_or(empty_schema, |batch| batch.schema());
        let table = datafusion::datasource::MemTable::try_new(schema, vec![batches])?;
        context.register_table(name, Arc::new(table))?;
    }
    Ok(context)
}

fn main() -> std::process::ExitCode {
    let options = match parse(std::env::args().skip(1)) {
        Ok(Some(options)) => options,
        Ok(None) => {
            println!("{USAGE}");
            return std::process::ExitCode::SUCCESS;
        }
        Err(message) => {
            eprintln!("{message}");
            return std::process::ExitCode::from(2);
        }
    };
    let Some(endpoint) = options.endpoint.clone() else {
        println!("{NO_ENDPOINT}");
        return std::process::ExitCode::SUCCESS;
    };
    match run(&options, &endpoint) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(error) => {
            eprint!("error: {error}");
            let mut source = error.source();
            while let Some(cause) = source {
                eprint!(": {cause}");
                source = cause.source();
            }
            eprintln!();
            std::process::ExitCode::FAILURE
        }
    }
}

fn run(options: &Options, endpoint: &str) -> Result<(), Box<dyn std::error::Error>> {
    let context = city_tables(options.days)?;
    let mut client_config = ChatClientConfig::new(endpoint, &options.model)
        .with_timeout_ms(options.timeout_ms)
        .with_stream(options.stream);
    if let Some(name) = &options.api_key_env {
        client_config = client_config.with_api_key_env(name);
    }
    let client = ChatClient::new(client_config)?;
    // Everything but the free text of the tickets, which contains names and phone numbers.
    let policy = QueryPolicy::new()
        .allow_all("readings")
        .allow_all("weather")
        .allow(
            "tickets",
            [
                "ticket_id",
                "station",
                "year",
                "month",
                "day",
                "hour",
                "category",
            ],
        );
    let config = QuestionConfig {
        max_rows: options.max_rows,
        timeout_ms: options.timeout_ms,
    };
    let answerer = QuestionAnswerer::new(context, policy, Arc::new(client), config);

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    println!("question: {}", options.question);
    let answer = runtime.block_on(answerer.ask(&options.question))?;
    println!("sql: {}", answer.sql);
    if answer.limit_capped {
        println!("(LIMIT set to {} rows by the row limit)", options.max_rows);
    }
    println!("{}", pretty_format_batches(&answer.batches)?);
    Ok(())
}
