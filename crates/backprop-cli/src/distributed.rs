//! Data-parallel training: the processes of one run (MPI ranks under `mpirun`, or the single
//! process), and the choices a run makes from them.
//!
//! - Built with `--features mpi` and started by `mpirun` (Open MPI's `OMPI_COMM_WORLD_SIZE` or
//!   a PMIx/PMI rank in the environment), `backprop train` joins MPI_COMM_WORLD: every rank
//!   gets the data (reads it itself, or receives rank 0's: `--data-distribution`), trains the
//!   same model on its run of shards ([`backprop::shard`]), and rank 0 alone prints and writes
//!   files.
//! - Otherwise it is one process, and `--shards S` runs the same sharded sums locally.
//! - A rank that fails prints the error with its rank and calls MPI_Abort, so that no other
//!   rank waits forever in a collective (a panic does the same, from the panic hook).
//!
//! The rules for shards, owners, partial batches and flags are in docs/distributed.md.

#[cfg(feature = "mpi")]
mod mpi_transport;

use crate::args::DataDistributionArg;
use crate::data::load::Loaded;
use crate::exit::CliError;
use backprop::shard::{CombineMode, GradientCombiner};
use backprop::train::{Sharding, DEFAULT_SHARDS};
use std::time::Instant;

/// How MPI ranks get the data when `--data-distribution` is not given (chosen by the
/// measurement in docs/distributed.md).
pub const DEFAULT_DATA_DISTRIBUTION: DataDistributionArg = DataDistributionArg::Read;

/// The processes of this run.
pub struct Cluster {
    /// Set when the failure in hand happened on every rank alike (a divergence every rank
    /// saw): each rank then exits on its own, and none aborts the job.
    symmetric_failure: std::cell::Cell<bool>,
    /// When this process began `backprop train` (before MPI_Init).
    started: Instant,
    rank: usize,
    ranks: usize,
    #[cfg(feature = "mpi")]
    transport: Option<mpi_transport::Transport>,
}

impl Cluster {
    /// Joins MPI when this build has it and `mpirun` started the process; otherwise the single
    /// process (rank 0 of 1).
    pub fn start() -> Self {
        let started = Instant::now();
        #[cfg(feature = "mpi")]
        if mpi_transport::launched_by_mpirun() {
            let transport = mpi_transport::Transport::start();
            return Self {
                symmetric_failure: std::cell::Cell::new(false),
                started,
                rank: transport.rank(),
                ranks: transport.ranks(),
                transport: Some(transport),
            };
        }
        Self {
            symmetric_failure: std::cell::Cell::new(false),
            started,
            rank: 0,
            ranks: 1,
            #[cfg(feature = "mpi")]
            transport: None,
        }
    }

    /// The number of processes.
    pub fn ranks(&self) -> usize {
        self.ranks
    }

    /// True for the process that prints and writes files (rank 0).
    pub fn is_root(&self) -> bool {
        self.rank == 0
    }

    /// True when this is an MPI run.
    pub fn is_distributed(&self) -> bool {
        #[cfg(feature = "mpi")]
        return self.transport.is_some();
        #[cfg(not(feature = "mpi"))]
        false
    }

    /// The sharding a run uses: `--shards S` as given, S = 8 under MPI when not given, none
    /// for a plain single-process run. `--fast-allreduce` needs MPI.
    pub fn sharding(
        &self,
        shards: Option<usize>,
        fast_allreduce: bool,
        dropout: f64,
    ) -> Result<Option<Sharding<f32>>, CliError> {
        if fast_allreduce && !self.is_distributed() {
            return Err(CliError::usage(
                "--fast-allreduce sums gradients with MPI_Allreduce: it needs a build with \
                 --features mpi, started by mpirun",
            ));
        }
        if self.ranks > 1 && dropout > 0.0 {
            return Err(CliError::usage(format!(
                "--dropout cannot run on {} MPI ranks: its masks are drawn in sequence by one \
                 process, so ranks would draw different ones; train without dropout, or in one \
                 process",
                self.ranks
            )));
        }
        let shards = match (shards, self.is_distributed()) {
            (Some(0), _) => return Err(CliError::usage("--shards must be at least 1")),
            (Some(shards), _) => shards,
            (None, true) => DEFAULT_SHARDS,
            (None, false) => return Ok(None),
        };
        let mode = if fast_allreduce {
            CombineMode::FastSum
        } else {
            CombineMode::Deterministic
        };
        let combiner: Box<dyn GradientCombiner<f32>> = match self.combiner(mode) {
            Some(combiner) => combiner,
            None => Box::new(backprop::shard::LocalCombiner),
        };
        Sharding::new(shards, combiner)
            .map(Some)
            .map_err(|error| CliError::usage(format!("--shards: {error}")))
    }

    /// The MPI combiner, under MPI.
    fn combiner(&self, mode: CombineMode) -> Option<Box<dyn GradientCombiner<f32>>> {
        #[cfg(feature = "mpi")]
        if let Some(transport) = &self.transport {
            return Some(Box::new(transport.combiner(mode)));
        }
        let _ = mode;
        None
    }

    /// How this run's ranks get the data: `--data-distribution` as given, or the default under
    /// MPI. The flag needs MPI.
    pub fn data_distribution(
        &self,
        requested: Option<DataDistributionArg>,
    ) -> Result<DataDistributionArg, CliError> {
        match requested {
            Some(_) if !self.is_distributed() => Err(CliError::usage(
                "--data-distribution chooses how MPI ranks get the data: it needs a build with \
                 --features mpi, started by mpirun",
            )),
            Some(distribution) => Ok(distribution),
            None => Ok(DEFAULT_DATA_DISTRIBUTION),
        }
    }

    /// The loaded data on every rank: each rank runs `load`, or under
    /// [`DataDistributionArg::Broadcast`] rank 0 alone runs it and broadcasts the result. If
    /// rank 0 fails to load, it returns the error (which aborts the job, [`Cluster::fail`])
    /// while the other ranks wait in the broadcast.
    pub fn load_data(
        &self,
        distribution: DataDistributionArg,
        load: impl FnOnce() -> Result<Loaded, CliError>,
    ) -> Result<Loaded, CliError> {
        #[cfg(feature = "mpi")]
        if let (Some(transport), DataDistributionArg::Broadcast, true) =
            (&self.transport, distribution, self.ranks > 1)
        {
            use crate::data::packed::{matrices_mut, pack_header, unpack_header};
            let (mut header, loaded) = if self.is_root() {
                let loaded = load()?;
                (pack_header(&loaded), Some(loaded))
            } else {
                (Vec::new(), None)
            };
            transport.broadcast_bytes(&mut header);
            let mut loaded = match loaded {
                Some(loaded) => loaded,
                None => unpack_header(&header)?,
            };
            for values in matrices_mut(&mut loaded) {
                transport.broadcast_floats(values);
            }
            return Ok(loaded);
        }
        let _ = distribution;
        load()
    }

    /// Seconds from the start of this process until the slowest rank got here (an MPI_MAX
    /// over the ranks; this process's own time for one process).
    pub fn seconds_until_every_rank(&self) -> f64 {
        let microseconds = self.started.elapsed().as_micros();
        let slowest = self.agree_max(u64::try_from(microseconds).unwrap_or(u64::MAX));
        slowest as f64 / 1e6
    }

    /// The largest of every rank's `value` (the value itself for one process).
    pub fn agree_max(&self, value: u64) -> u64 {
        #[cfg(feature = "mpi")]
        if let Some(transport) = &self.transport {
            return transport.all_reduce_max(value);
        }
        value
    }

    /// Checks that every rank read the same training data (the first 8 bytes of its SHA-256,
    /// given in hex), so that a rank that read another file fails loudly instead of training
    /// on it.
    pub fn check_same_data(&self, sha256: &str) -> Result<(), CliError> {
        if self.ranks == 1 {
            return Ok(());
        }
        let prefix = u64::from_str_radix(sha256.get(..16).unwrap_or("0"), 16).unwrap_or(0);
        let (largest, smallest) = (self.agree_max(prefix), !self.agree_max(!prefix));
        if largest != smallest {
            return Err(CliError::Runtime(format!(
                "the ranks read different training data (this rank's SHA-256 starts {}); every \
                 rank must read the same data",
                sha256.get(..16).unwrap_or(sha256)
            )));
        }
        Ok(())
    }

    /// Marks the failure in hand as one every rank has (see [`Cluster::fail`]).
    pub fn fail_together(&self) {
        self.symmetric_failure.set(true);
    }

    /// Ends the whole MPI job after a failure on this rank, naming it; for one process,
    /// returns the error to exit with as usual.
    pub fn fail(&self, error: CliError) -> CliError {
        #[cfg(feature = "mpi")]
        if let Some(transport) = &self.transport {
            let together = self.symmetric_failure.get();
            if !together && !matches!(error, CliError::Interrupted { .. }) {
                transport.abort(
                    &format!("error: rank {} of {}: {error}", self.rank, self.ranks),
                    error.exit_code(),
                );
            }
        }
        error
    }
}
