//! Builds a chain from a [`ChainFile`], runs its rounds and writes the outputs: the sinks'
//! files, the reports, `lineage.json`, the audit log and the HTML report.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use governance::analyze::{SqlIndicators, ThresholdAlerts};
use governance::apply::{
    AlertSink, CsvSink, CsvSinkConfig, HtmlReport, ParquetSink, ParquetSinkConfig, PostgresSink,
    PostgresSinkConfig, QUARANTINE_FILE, ReportWriter, ReportWriterConfig, WorkOrderApplicator,
};
use governance::audit::{AuditHandle, AuditLog, verify_file};
use governance::clean::anomaly::AnomalyDetector;
use governance::clean::{
    Canonicalise, Dedupe, FillGaps, ModelImpute, QualityGate, RobustOutliers, Rules, SeasonalFill,
};
use governance::collect::{
    CsvCollector, FolderCollector, MqttCollector, ParquetCollector, SyntheticCity,
};
use governance::fuse::AsOfJoin;
use governance::fuse::schema::SchemaMap;
use governance::fuse::temporal::Resample;
use governance::secure::PiiGuard;
use governance::{
    AccessRequest, Adjustment, Chain, ChainBuilder, Cleaner, Collector, Feedback, GovernedBatch,
    QuarantinedRow, RunSummary, StageContext,
};

use crate::chain_file::{ChainFile, SideSourceConfig, SinksConfig, SourceConfig, StageConfig};
use crate::error::CliError;
use crate::progress::{Progress, ProgressCollector};

/// File name of the audit log in the output folder.
pub const AUDIT_FILE: &str = "audit.jsonl";
/// File name of every round's lineage records in the output folder.
pub const LINEAGE_FILE: &str = "lineage.json";
/// File name of the HTML report in the output folder, unless `--report` names another.
pub const HTML_REPORT_FILE: &str = "report.html";

/// Output folder and progress display of a run.
pub struct RunOptions {
    /// Output folder.
    pub out: PathBuf,
    /// Path of the HTML report.
    pub report: PathBuf,
    /// Whether to draw a progress bar on a terminal.
    pub progress: bool,
}

/// Outputs of a finished run.
pub struct RunOutcome {
    /// One summary per round.
    pub rounds: Vec<RunSummary>,
    /// Records in the verified audit log.
    pub audit_records: u64,
    /// Changes that feedback made to stages, with the round after which each was made.
    pub adjustments: Vec<(u32, Adjustment)>,
}

/// Additions to a run: the demo records flagged cells with an extra applicator and returns
/// labels for them between rounds, and a chain file's `[feedback]` table returns the labels
/// of a file after one round.
pub trait RoundHook {
    /// Adds the hook's applicators to the chain.
    fn extend(&mut self, builder: ChainBuilder) -> Result<ChainBuilder, CliError>;
    /// Inspects a finished round and returns the feedback for the chain's learners. The
    /// runner hands it to the chain only when `more_rounds` is true.
    fn after_round(
        &mut self,
        summary: &RunSummary,
        more_rounds: bool,
    ) -> Result<Vec<Feedback>, CliError>;
    /// Returns the text printed after the rounds table of a finished run, if any.
    fn summary(&self, outcome: &RunOutcome) -> Option<String>;
}

fn collector(source: &SourceConfig) -> Result<Box<dyn Collector>, CliError> {
    Ok(match source {
        SourceConfig::Csv(config) => Box::new(CsvCollector::new(config.clone())?),
        SourceConfig::Parquet(config) => Box::new(ParquetCollector::new(config.clone())?),
        SourceConfig::Folder(config) => Box::new(FolderCollector::new(config.clone())?),
        SourceConfig::Mqtt(config) => Box::new(MqttCollector::new(config.clone())?),
        SourceConfig::Synthetic(config) => {
            Box::new(SyntheticCity::new(config.clone())?.sensor_collector())
        }
        SourceConfig::SyntheticWeather(config) => {
            Box::new(SyntheticCity::new(config.clone())?.weather_collector())
        }
    })
}

/// Reads side source `name` to its end and canonicalises its rows. Returns the batches and the
/// rows that the collector or the canonicalisation quarantined, whose stage is
/// `side_source_<name>`.
fn load_side_source(
    name: &str,
    side: &SideSourceConfig,
    audit: &AuditHandle,
) -> Result<(Vec<GovernedBatch>, Vec<QuarantinedRow>), CliError> {
    let mut ctx = StageContext::new(format!("side_source_{name}"), 1, audit.clone());
    let mut source = collector(&side.source)?;
    let mut canonical = match &side.canonicalise {
        Some(config) => Some(Canonicalise::new(config.clone())?),
        None => None,
    };
    source.start(&mut ctx)?;
    let mut batches = Vec::new();
    while let Some(batch) = source.next_batch(&mut ctx)? {
        let batch = match &mut canonical {
            Some(stage) => stage.clean(batch, &mut ctx)?,
            None => batch,
        };
        batches.push(batch);
    }
    Ok((batches, ctx.take_quarantined()))
}

fn add_stage(
    builder: ChainBuilder,
    stage: &StageConfig,
    sides: &BTreeMap<String, Vec<GovernedBatch>>,
) -> Result<ChainBuilder, CliError> {
    Ok(match stage {
        StageConfig::Canonicalise(config) => builder.clean(Canonicalise::new(config.clone())?),
        StageConfig::Rules(config) => builder.clean(Rules::new(config.clone())?),
        StageConfig::Dedupe(config) => builder.clean(Dedupe::new(config.clone())?),
        StageConfig::FillGaps(config) => builder.clean(FillGaps::new(config.clone())?),
        StageConfig::SeasonalFill(config) => builder.clean(SeasonalFill::new(config.clone())?),
        StageConfig::ModelImpute(config) => builder.clean(ModelImpute::new(config.clone())?),
        StageConfig::Outliers(config) => builder.clean(RobustOutliers::new(config.clone())?),
        StageConfig::Anomaly(config) => builder.clean(AnomalyDetector::new(config.clone())?),
        StageConfig::Quality(config) => builder.clean(QualityGate::new(config.clone())?),
        StageConfig::AsOfJoin(config) => {
            // Two joins may name one side source, so each takes a copy of its batches.
            let side = sides.get(&config.source).cloned().ok_or_else(|| {
                CliError::Usage(format!(
                    "as_of_join stage {:?} names side source {:?}, which is not defined: add \
                     a [side_sources.{}] table",
                    config.name, config.source, config.source
                ))
            })?;
            builder.fuse(AsOfJoin::new(config.clone(), side)?)
        }
        StageConfig::ThresholdAlerts(config) => {
            builder.analyze(ThresholdAlerts::new(config.clone())?)
        }
        StageConfig::SqlIndicators(config) => builder.analyze(SqlIndicators::new(config.clone())?),
        StageConfig::Guard(config) => builder.guard(PiiGuard::new(config.clone())?),
        StageConfig::SchemaMap(config) => {
            let reference = match &config.reference {
                Some(name) => sides
                    .get(name)
                    .ok_or_else(|| {
                        CliError::Usage(format!(
                            "schema_map stage {:?} names reference {name:?}, which is not \
                             defined: add a [side_sources.{name}] table",
                            config.name
                        ))
                    })?
                    .iter()
                    .map(|batch| batch.data().clone())
                    .collect(),
                None => Vec::new(),
            };
            builder.fuse(SchemaMap::new(config.clone(), reference)?)
        }
        StageConfig::Resample(config) => builder.clean(Resample::new(config.clone())?),
    })
}

/// Adds the sinks and the report writer, which writes `side_quarantine` (the rows that side
/// sources quarantined) into the first round's `quarantine.jsonl`.
fn add_sinks(
    mut builder: ChainBuilder,
    sinks: &SinksConfig,
    name: &str,
    out: &Path,
    side_quarantine: Vec<QuarantinedRow>,
) -> Result<ChainBuilder, CliError> {
    let any = sinks.parquet.is_some() || sinks.csv.is_some() || sinks.postgres.is_some();
    if sinks.parquet.is_some() || !any {
        let table = sinks.parquet.clone().unwrap_or_default();
        let mut config = ParquetSinkConfig::new(out);
        config.compression = table.compression;
        if let Some(rows) = table.max_row_group_rows {
            config.max_row_group_rows = rows;
        }
        builder = builder.apply(ParquetSink::new(config)?);
    }
    if let Some(table) = &sinks.csv {
        let mut config = CsvSinkConfig::new(out);
        config.delimiter = table.delimiter;
        config.header = table.header;
        config.null = table.null.clone();
        builder = builder.apply(CsvSink::new(config)?);
    }
    if let Some(table) = &sinks.postgres {
        let connection = std::env::var(&table.connection_env).map_err(|_| {
            CliError::Usage(format!(
                "environment variable {} is not set: set it to the PostgreSQL connection \
                 string named by sinks.postgres.connection_env",
                table.connection_env
            ))
        })?;
        let pipeline = table
            .pipeline_id
            .clone()
            .unwrap_or_else(|| name.to_string());
        let mut config = PostgresSinkConfig::new(connection, &table.table, pipeline);
        if let Some(schema) = &table.schema {
            config.schema = schema.clone();
        }
        if let Some(checkpoints) = &table.checkpoint_table {
            config.checkpoint_table = checkpoints.clone();
        }
        config.mode = table.mode.clone();
        config.commit = table.commit;
        config.schema_evolution = table.schema_evolution;
        config.ssl_mode = table.ssl_mode;
        config.ssl_root_cert = table.ssl_root_cert.clone();
        config.ssl_client_cert = table.ssl_client_cert.clone();
        config.ssl_client_key = table.ssl_client_key.clone();
        config.lock_timeout_ms = table.lock_timeout_ms;
        builder = builder.apply(PostgresSink::new(config)?);
    }
    let report = ReportWriter::new(ReportWriterConfig::new(out))?.with_quarantined(side_quarantine);
    Ok(builder.apply(report))
}

/// Runs the chain of `file` and writes its outputs as `options` sets. With `hook`, the hook's
/// applicators join the chain and its feedback goes to the chain's learners between rounds.
pub fn run_chain(
    file: &ChainFile,
    options: &RunOptions,
    mut hook: Option<&mut dyn RoundHook>,
) -> Result<RunOutcome, CliError> {
    let out = options.out.as_path();
    std::fs::create_dir_all(out).map_err(|error| {
        CliError::Io(format!(
            "cannot create output folder {}: {error}",
            out.display()
        ))
    })?;
    let audit = AuditLog::create(out.join(AUDIT_FILE))?.into_handle();
    let progress = Progress::new(options.progress);

    let mut sides = BTreeMap::new();
    let mut side_quarantine = Vec::new();
    for (name, side) in &file.side_sources {
        let (batches, quarantined) = load_side_source(name, side, &audit)?;
        if !quarantined.is_empty() {
            eprintln!(
                "warning: side source {name}: {} rows quarantined while reading or \
                 canonicalising it, left out of the join and listed in {} with stage \
                 side_source_{name}",
                quarantined.len(),
                out.join("round-1").join(QUARANTINE_FILE).display()
            );
        }
        side_quarantine.extend(quarantined);
        sides.insert(name.clone(), batches);
    }

    let mut source = collector(&file.source)?;
    if let Some(check) = &file.source_check {
        source = check.wrap(source)?;
    }
    let mut builder = Chain::builder().collect(ProgressCollector::new(source, progress.clone()));
    for stage in &file.stages {
        builder = add_stage(builder, stage, &sides)?;
    }
    builder = add_sinks(builder, &file.sinks, &file.name, out, side_quarantine)?;
    if let Some(hook) = hook.as_mut() {
        builder = hook.extend(builder)?;
    }
    if let Some(config) = &file.alerts {
        builder = builder.apply(AlertSink::new(config.clone())?);
    }
    if let Some(config) = &file.work_orders {
        builder = builder.apply(WorkOrderApplicator::new(config.clone())?);
    }
    let request = file
        .request
        .clone()
        .unwrap_or_else(|| AccessRequest::new("analyst", format!("govern run {}", file.name)));
    let mut chain = builder.request(request).audit(audit).build()?;

    let mut rounds = Vec::new();
    for round in 1..=file.rounds {
        progress.start_round(round, file.rounds);
        let summary = chain.run_blocking();
        progress.finish_round();
        let summary = summary?;
        if let Some(hook) = hook.as_mut() {
            let more_rounds = round < file.rounds;
            let feedback = hook.after_round(&summary, more_rounds)?;
            if more_rounds && !feedback.is_empty() {
                chain.learn(&feedback)?;
            }
        }
        rounds.push(summary);
    }
    let adjustments = chain.adjustments().to_vec();

    let lineage = serde_json::to_string_pretty(chain.lineage())
        .map_err(|error| CliError::Data(format!("cannot serialise lineage: {error}")))?;
    let lineage_path = out.join(LINEAGE_FILE);
    std::fs::write(&lineage_path, lineage + "\n").map_err(|error| {
        CliError::Io(format!("cannot write {}: {error}", lineage_path.display()))
    })?;

    HtmlReport::from_output_dir(out, &file.name)?.write(&options.report)?;
    drop(chain);
    let audit_records = verify_file(out.join(AUDIT_FILE)).map_err(|error| {
        CliError::Data(format!(
            "the audit log of this run failed verification: {error}"
        ))
    })?;
    Ok(RunOutcome {
        rounds,
        audit_records,
        adjustments,
    })
}
