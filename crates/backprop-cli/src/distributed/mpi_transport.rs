//! The MPI transport (`--features mpi`): rsmpi over the system's Open MPI. Gathers move shard
//! sums (MPI_Allgatherv, pure data movement whose result does not depend on any reduction
//! order), `--fast-allreduce` uses MPI_Allreduce, flags use an integer MPI_MAX reduction,
//! `--data-distribution broadcast` uses MPI_Bcast from rank 0, and a failure calls MPI_Abort.

use backprop::shard::{CombineMode, GradientCombiner};
use mpi::collective::SystemOperation;
use mpi::datatype::PartitionMut;
use mpi::environment::Universe;
use mpi::topology::SimpleCommunicator;
use mpi::traits::{Communicator, CommunicatorCollectives, Equivalence, Root};
use std::time::Instant;

/// The most elements one MPI_Bcast carries (under the 2³¹ limit of an MPI count).
const BROADCAST_PIECE: usize = 1 << 28;

/// True when `mpirun` (Open MPI, or a PMI/PMIx launcher) started this process.
pub fn launched_by_mpirun() -> bool {
    ["OMPI_COMM_WORLD_SIZE", "PMIX_RANK", "PMI_RANK"]
        .iter()
        .any(|name| std::env::var_os(name).is_some())
}

/// MPI, initialised once for the run; finalised when dropped.
pub struct Transport {
    _universe: Universe,
    world: SimpleCommunicator,
}

impl Transport {
    /// Initialises MPI and installs a panic hook that aborts the job, naming the rank.
    #[allow(unsafe_code)]
    pub fn start() -> Self {
        let universe = mpi::initialize().expect("MPI is initialised once");
        let world = universe.world();
        let (rank, ranks) = (world.rank(), world.size());
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            previous(info);
            eprintln!("error: rank {rank} of {ranks} panicked; aborting every rank");
            // The crate's one `unsafe` (it denies the rest): MPI_Abort through the FFI.
            // SAFETY: MPI is initialised (this hook is installed after it) and MPI_Abort may
            // be called from any state; it does not return.
            unsafe {
                mpi::ffi::MPI_Abort(mpi::ffi::RSMPI_COMM_WORLD, 101);
            }
        }));
        Self {
            _universe: universe,
            world,
        }
    }

    /// This process's rank.
    pub fn rank(&self) -> usize {
        usize::try_from(world().rank()).unwrap_or(0)
    }

    /// The number of ranks.
    pub fn ranks(&self) -> usize {
        usize::try_from(world().size()).unwrap_or(1)
    }

    /// A gradient combiner over the world communicator.
    pub fn combiner(&self, mode: CombineMode) -> MpiCombiner {
        MpiCombiner { mode, seconds: 0.0 }
    }

    /// The largest `value` over the ranks.
    pub fn all_reduce_max(&self, value: u64) -> u64 {
        let mut largest = 0u64;
        self.world
            .all_reduce_into(&value, &mut largest, SystemOperation::max());
        largest
    }

    /// Rank 0's `bytes` on every rank: the length goes first, so that the other ranks size
    /// their buffer.
    pub fn broadcast_bytes(&self, bytes: &mut Vec<u8>) {
        let mut length = bytes.len() as u64;
        self.world.process_at_rank(0).broadcast_into(&mut length);
        let length = usize::try_from(length).expect("a length that fits in memory");
        bytes.resize(length, 0);
        self.broadcast_slice(bytes);
    }

    /// Rank 0's `values` on every rank, whose `values` already have rank 0's length.
    pub fn broadcast_floats(&self, values: &mut [f32]) {
        self.broadcast_slice(values);
    }

    /// MPI_Bcast from rank 0 in pieces of at most [`BROADCAST_PIECE`] elements, since MPI counts
    /// are 32-bit.
    fn broadcast_slice<T: Equivalence>(&self, values: &mut [T]) {
        let root = self.world.process_at_rank(0);
        for piece in values.chunks_mut(BROADCAST_PIECE) {
            root.broadcast_into(piece);
        }
    }

    /// Prints `message` and ends every rank with `code`.
    pub fn abort(&self, message: &str, code: u8) -> ! {
        eprintln!("{message}");
        world().abort(i32::from(code))
    }
}

/// Shard sums over MPI_COMM_WORLD (a handle to it is made for each exchange, so that the
/// combiner holds no raw MPI handle and stays `Send`; MPI is used from the main thread only).
pub struct MpiCombiner {
    mode: CombineMode,
    /// Seconds inside collectives (waiting for slower ranks included).
    seconds: f64,
}

/// MPI_COMM_WORLD.
fn world() -> SimpleCommunicator {
    SimpleCommunicator::world()
}

impl MpiCombiner {
    fn gather<T: Equivalence + Copy + Default>(&mut self, local: &[T], counts: &[usize]) -> Vec<T> {
        let started = Instant::now();
        let to_count = |n: usize| i32::try_from(n).expect("a gather of under 2³¹ values");
        let counts: Vec<i32> = counts.iter().map(|&n| to_count(n)).collect();
        let displacements: Vec<i32> = counts
            .iter()
            .scan(0, |offset, &count| {
                let start = *offset;
                *offset += count;
                Some(start)
            })
            .collect();
        let total = counts.iter().map(|&c| c as usize).sum();
        let mut gathered = vec![T::default(); total];
        let mut partition = PartitionMut::new(&mut gathered[..], counts, displacements);
        world().all_gather_varcount_into(local, &mut partition);
        self.seconds += started.elapsed().as_secs_f64();
        gathered
    }
}

impl GradientCombiner<f32> for MpiCombiner {
    fn rank(&self) -> usize {
        usize::try_from(world().rank()).unwrap_or(0)
    }

    fn ranks(&self) -> usize {
        usize::try_from(world().size()).unwrap_or(1)
    }

    fn mode(&self) -> CombineMode {
        self.mode
    }

    fn all_gather(&mut self, local: &[f32], counts: &[usize]) -> Vec<f32> {
        self.gather(local, counts)
    }

    fn all_gather_f64(&mut self, local: &[f64], counts: &[usize]) -> Vec<f64> {
        self.gather(local, counts)
    }

    fn all_reduce_sum(&mut self, values: &mut [f32]) {
        let started = Instant::now();
        let local = values.to_vec();
        world().all_reduce_into(&local[..], values, SystemOperation::sum());
        self.seconds += started.elapsed().as_secs_f64();
    }

    fn all_reduce_max(&mut self, value: u64) -> u64 {
        let mut largest = 0u64;
        world().all_reduce_into(&value, &mut largest, SystemOperation::max());
        largest
    }

    fn communication_seconds(&self) -> f64 {
        self.seconds
    }
}
