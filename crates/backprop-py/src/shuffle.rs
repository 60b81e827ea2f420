//! NumPy's legacy `RandomState` shuffle, reproduced draw for draw, so that a whole fit can
//! shuffle its rows in Rust: scikit-learn's `shuffle(sample_idx, random_state=rs)` is
//! `sample_idx[rs.permutation(n)]`, and `permutation(n)` is Fisher–Yates over `arange(n)` with
//! `random_interval(i)` for i = n − 1 … 1 drawn from MT19937 (numpy/random/_mt19937 and
//! distributions.c). The state travels as `RandomState.get_state()`'s key array and position,
//! and goes back with `set_state`, so the caller's generator ends exactly where NumPy's would.

const N: usize = 624;
const M: usize = 397;
const MATRIX_A: u32 = 0x9908_b0df;
const UPPER_MASK: u32 = 0x8000_0000;
const LOWER_MASK: u32 = 0x7fff_ffff;

/// MT19937 as NumPy keeps it: 624 words and the position of the next one.
pub struct Mt19937 {
    key: [u32; N],
    pos: usize,
}

impl Mt19937 {
    /// From `get_state()`'s key array and position; None when they are not a valid state.
    pub fn from_state(key: &[u32], pos: usize) -> Option<Self> {
        let key: [u32; N] = key.try_into().ok()?;
        (pos <= N).then_some(Self { key, pos })
    }

    /// The key array and position, for `set_state`.
    pub fn state(&self) -> (Vec<u32>, usize) {
        (self.key.to_vec(), self.pos)
    }

    fn generate(&mut self) {
        let twist = |a: u32, b: u32, c: u32| {
            let y = (a & UPPER_MASK) | (b & LOWER_MASK);
            c ^ (y >> 1) ^ ((y & 1).wrapping_neg() & MATRIX_A)
        };
        // The reference loop's indices (i + 1) mod N and (i + M) mod N, in three ranges.
        for i in 0..N - M {
            self.key[i] = twist(self.key[i], self.key[i + 1], self.key[i + M]);
        }
        for i in N - M..N - 1 {
            self.key[i] = twist(self.key[i], self.key[i + 1], self.key[i + M - N]);
        }
        self.key[N - 1] = twist(self.key[N - 1], self.key[0], self.key[M - 1]);
        self.pos = 0;
    }

    fn next_u32(&mut self) -> u32 {
        if self.pos == N {
            self.generate();
        }
        let mut y = self.key[self.pos];
        self.pos += 1;
        y ^= y >> 11;
        y ^= (y << 7) & 0x9d2c_5680;
        y ^= (y << 15) & 0xefc6_0000;
        y ^ (y >> 18)
    }

    /// A value in [0, max] by masked rejection (NumPy's `random_interval` for max < 2³²).
    fn interval(&mut self, max: u32) -> u32 {
        if max == 0 {
            return 0;
        }
        let mask = u32::MAX >> max.leading_zeros();
        loop {
            let value = self.next_u32() & mask;
            if value <= max {
                return value;
            }
        }
    }

    /// `order = order[permutation(len)]`, with the draws of `RandomState.permutation`.
    ///
    /// # Panics
    /// When `order` has 2³² rows or more (NumPy then draws 64-bit values; the caller keeps
    /// such data on NumPy's own shuffle).
    pub fn shuffle_indices(&mut self, order: &mut [usize], scratch: &mut Vec<usize>) {
        let n = order.len();
        assert!(u32::try_from(n).is_ok(), "shuffle_indices: too many rows");
        scratch.clear();
        scratch.extend(0..n);
        for i in (1..n).rev() {
            let j = self.interval(i as u32) as usize;
            scratch.swap(i, j);
        }
        // The permutation, then the order before it, in the one scratch buffer.
        scratch.extend_from_slice(order);
        let (permutation, previous) = scratch.split_at(n);
        for (slot, &from) in order.iter_mut().zip(permutation) {
            *slot = previous[from];
        }
    }
}
