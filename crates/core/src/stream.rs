//! The model's random streams: ChaCha8 with a 64-bit counter and a 64-bit stream number.
//!
//! Natively this is `chacha20`'s `ChaCha8Rng`, whose AVX2 and NEON code computes four blocks
//! at once. In WebAssembly that crate falls back on one block at a time, and its block function
//! was a quarter of the browser explorer's time; there, with the `simd128` feature, the same
//! generator is [`FourLanes`] over WebAssembly's 128-bit vectors: four blocks at once, one per
//! lane, the words of `chacha20`'s generator in the same order. The generator is written once,
//! over a [`Lanes`] type, and the unit tests run it over plain arrays against `chacha20` word for
//! word; `crates/core/tests/wasm.rs` compares whole runs natively and in WebAssembly.

#[cfg(not(all(target_arch = "wasm32", target_feature = "simd128")))]
pub use chacha20::ChaCha8Rng;

/// ChaCha8 streams: four blocks at once in WebAssembly's vectors.
#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
pub type ChaCha8Rng = FourLanes<core::arch::wasm32::v128>;

use rand::rand_core::block::{BlockRng, Generator};
use rand::rand_core::{Infallible, SeedableRng, TryRng};

/// Four 32-bit lanes: what one word of the four blocks' states is held in.
pub trait Lanes: Copy {
    /// Every lane `x`.
    fn splat(x: u32) -> Self;
    /// Lane `k` is `a[k]`.
    fn from_array(a: [u32; 4]) -> Self;
    /// The lanes in order.
    fn to_array(self) -> [u32; 4];
    /// Lane-wise wrapping addition.
    fn add(self, other: Self) -> Self;
    /// Lane-wise exclusive or.
    fn xor(self, other: Self) -> Self;
    /// Lane-wise rotation left by `n` bits (0 < n < 32).
    fn rotl(self, n: u32) -> Self;
}

impl Lanes for [u32; 4] {
    fn splat(x: u32) -> Self {
        [x; 4]
    }
    fn from_array(a: [u32; 4]) -> Self {
        a
    }
    fn to_array(self) -> [u32; 4] {
        self
    }
    fn add(self, o: Self) -> Self {
        std::array::from_fn(|k| self[k].wrapping_add(o[k]))
    }
    fn xor(self, o: Self) -> Self {
        std::array::from_fn(|k| self[k] ^ o[k])
    }
    fn rotl(self, n: u32) -> Self {
        self.map(|x| x.rotate_left(n))
    }
}

#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
impl Lanes for core::arch::wasm32::v128 {
    #[inline(always)]
    fn splat(x: u32) -> Self {
        core::arch::wasm32::u32x4_splat(x)
    }
    #[inline(always)]
    fn from_array(a: [u32; 4]) -> Self {
        core::arch::wasm32::u32x4(a[0], a[1], a[2], a[3])
    }
    #[inline(always)]
    fn to_array(self) -> [u32; 4] {
        use core::arch::wasm32::u32x4_extract_lane as lane;
        [lane::<0>(self), lane::<1>(self), lane::<2>(self), lane::<3>(self)]
    }
    #[inline(always)]
    fn add(self, o: Self) -> Self {
        core::arch::wasm32::u32x4_add(self, o)
    }
    #[inline(always)]
    fn xor(self, o: Self) -> Self {
        core::arch::wasm32::v128_xor(self, o)
    }
    #[inline(always)]
    fn rotl(self, n: u32) -> Self {
        use core::arch::wasm32::*;
        match n {
            // Whole-byte rotations are byte shuffles (little-endian lanes).
            16 => i8x16_shuffle::<2, 3, 0, 1, 6, 7, 4, 5, 10, 11, 8, 9, 14, 15, 12, 13>(self, self),
            8 => i8x16_shuffle::<3, 0, 1, 2, 7, 4, 5, 6, 11, 8, 9, 10, 15, 12, 13, 14>(self, self),
            _ => v128_or(u32x4_shl(self, n), u32x4_shr(self, 32 - n)),
        }
    }
}

/// "expand 32-byte k".
const CONSTANTS: [u32; 4] = [0x6170_7865, 0x3320_646e, 0x7962_2d32, 0x6b20_6574];

/// The ChaCha8 block function, four consecutive blocks at once (block `k` in lane `k`): a
/// [`Generator`] of the 64 words `chacha20`'s ChaCha8 generator gives for the same state.
#[derive(Clone)]
pub struct FourBlocks<L> {
    /// Constants, key, 64-bit block counter (words 12 and 13), 64-bit stream (14 and 15).
    state: [u32; 16],
    lanes: std::marker::PhantomData<L>,
}

#[inline(always)]
fn quarter_round<L: Lanes>(x: &mut [L; 16], a: usize, b: usize, c: usize, d: usize) {
    x[a] = x[a].add(x[b]);
    x[d] = x[d].xor(x[a]).rotl(16);
    x[c] = x[c].add(x[d]);
    x[b] = x[b].xor(x[c]).rotl(12);
    x[a] = x[a].add(x[b]);
    x[d] = x[d].xor(x[a]).rotl(8);
    x[c] = x[c].add(x[d]);
    x[b] = x[b].xor(x[c]).rotl(7);
}

impl<L: Lanes> Generator for FourBlocks<L> {
    type Output = [u32; 64];

    #[inline]
    fn generate(&mut self, out: &mut [u32; 64]) {
        let s = &self.state;
        let counter = (u64::from(s[13]) << 32) | u64::from(s[12]);
        let counters: [u64; 4] = std::array::from_fn(|k| counter.wrapping_add(k as u64));
        let mut start = s.map(L::splat);
        start[12] = L::from_array(counters.map(|c| c as u32));
        start[13] = L::from_array(counters.map(|c| (c >> 32) as u32));
        let mut x = start;
        // Eight rounds: four of columns and diagonals.
        for _ in 0..4 {
            quarter_round(&mut x, 0, 4, 8, 12);
            quarter_round(&mut x, 1, 5, 9, 13);
            quarter_round(&mut x, 2, 6, 10, 14);
            quarter_round(&mut x, 3, 7, 11, 15);
            quarter_round(&mut x, 0, 5, 10, 15);
            quarter_round(&mut x, 1, 6, 11, 12);
            quarter_round(&mut x, 2, 7, 8, 13);
            quarter_round(&mut x, 3, 4, 9, 14);
        }
        for (i, (word, first)) in x.iter().zip(&start).enumerate() {
            for (k, w) in word.add(*first).to_array().into_iter().enumerate() {
                out[16 * k + i] = w;
            }
        }
        let next = counter.wrapping_add(4);
        self.state[12] = next as u32;
        self.state[13] = (next >> 32) as u32;
    }
}

/// A ChaCha8 random number generator over [`FourBlocks`]: the API of `chacha20`'s
/// `ChaCha8Rng` that the core uses, with the same words.
#[derive(Clone)]
pub struct FourLanes<L: Lanes> {
    core: BlockRng<FourBlocks<L>>,
}

impl<L: Lanes> std::fmt::Debug for FourLanes<L> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ChaCha8Rng { .. }")
    }
}

impl<L: Lanes> SeedableRng for FourLanes<L> {
    type Seed = [u8; 32];

    fn from_seed(seed: [u8; 32]) -> Self {
        let mut state = [0u32; 16];
        state[..4].copy_from_slice(&CONSTANTS);
        for (word, bytes) in state[4..12].iter_mut().zip(seed.chunks_exact(4)) {
            *word = u32::from_le_bytes([bytes[0], bytes[1], bytes[2], bytes[3]]);
        }
        FourLanes { core: BlockRng::new(FourBlocks { state, lanes: std::marker::PhantomData }) }
    }
}

impl<L: Lanes> TryRng for FourLanes<L> {
    type Error = Infallible;

    #[inline]
    fn try_next_u32(&mut self) -> Result<u32, Infallible> {
        Ok(self.core.next_word())
    }
    #[inline]
    fn try_next_u64(&mut self) -> Result<u64, Infallible> {
        Ok(self.core.next_u64_from_u32())
    }
    #[inline]
    fn try_fill_bytes(&mut self, dest: &mut [u8]) -> Result<(), Infallible> {
        self.core.fill_bytes(dest);
        Ok(())
    }
}

impl<L: Lanes> FourLanes<L> {
    /// Set the stream number and go back to the start of that stream.
    pub fn set_stream(&mut self, stream: u64) {
        let state = &mut self.core.core.state;
        (state[14], state[15]) = (stream as u32, (stream >> 32) as u32);
        (state[12], state[13]) = (0, 0);
        self.core.reset_and_skip(0);
    }

    /// The stream number.
    pub fn get_stream(&self) -> u64 {
        let state = &self.core.core.state;
        (u64::from(state[15]) << 32) | u64::from(state[14])
    }

    /// The seed (key).
    pub fn get_seed(&self) -> [u8; 32] {
        let mut seed = [0u8; 32];
        for (bytes, word) in seed.chunks_exact_mut(4).zip(&self.core.core.state[4..12]) {
            bytes.copy_from_slice(&word.to_le_bytes());
        }
        seed
    }

    /// Words drawn since the start of the stream (as `chacha20`'s `get_word_pos`).
    pub fn get_word_pos(&self) -> u128 {
        let state = &self.core.core.state;
        let mut block = (u64::from(state[13]) << 32) | u64::from(state[12]);
        // A buffer in use was generated from four blocks back.
        if self.core.word_offset() != 0 {
            block = block.wrapping_sub(4);
        }
        (u128::from(block) * 16 + self.core.word_offset() as u128) & ((1 << 68) - 1)
    }

    /// Go to `pos` words from the start of the stream (as `chacha20`'s `set_word_pos`).
    pub fn set_word_pos(&mut self, pos: u128) {
        let block = (pos / 16) as u64;
        let state = &mut self.core.core.state;
        (state[12], state[13]) = (block as u32, (block >> 32) as u32);
        self.core.reset_and_skip((pos % 16) as usize);
    }
}

/// Where a stream stands: its key, stream number and word position. What a warm state keeps of
/// each stream; restored, the stream gives the words it would have given next.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct RngState {
    /// The key.
    pub seed: [u8; 32],
    /// The stream number.
    pub stream: u64,
    /// Words drawn since the start of the stream.
    pub word_pos: u128,
}

impl RngState {
    /// Where `rng` stands.
    pub fn of(rng: &ChaCha8Rng) -> RngState {
        RngState { seed: rng.get_seed(), stream: rng.get_stream(), word_pos: rng.get_word_pos() }
    }

    /// A stream standing there.
    pub fn restore(&self) -> ChaCha8Rng {
        let mut rng = ChaCha8Rng::from_seed(self.seed);
        rng.set_stream(self.stream);
        rng.set_word_pos(self.word_pos);
        rng
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{Rng, RngExt};

    /// The generator over plain arrays is `chacha20`'s, word for word, through refills, mixed
    /// widths, stream changes and counters that carry into the high word.
    #[test]
    fn four_lanes_give_chacha20s_words() {
        for seed in [0u64, 1, 42, 20201, u64::MAX] {
            for stream in [0u64, 1, 99, 0x3011_1555, (1 << 61) | (5 << 32) | 3, 1 << 63, u64::MAX] {
                let mut ours = FourLanes::<[u32; 4]>::seed_from_u64(seed);
                let mut theirs = chacha20::ChaCha8Rng::seed_from_u64(seed);
                ours.set_stream(stream);
                theirs.set_stream(stream);
                assert_eq!((ours.get_seed(), ours.get_stream()), (theirs.get_seed(), theirs.get_stream()));
                for k in 0..2000 {
                    match k % 5 {
                        0 | 3 => assert_eq!(
                            ours.random::<u32>(),
                            theirs.random::<u32>(),
                            "seed {seed} stream {stream} draw {k}"
                        ),
                        1 => assert_eq!(ours.random::<f64>().to_bits(), theirs.random::<f64>().to_bits()),
                        2 => assert_eq!(ours.random::<u64>(), theirs.random::<u64>()),
                        _ => {
                            let (mut a, mut b) = ([0u8; 13], [0u8; 13]);
                            ours.fill_bytes(&mut a);
                            theirs.fill_bytes(&mut b);
                            assert_eq!(a, b);
                        }
                    }
                }
            }
        }
        // A counter about to carry from its low word into its high one.
        let mut ours = FourLanes::<[u32; 4]>::seed_from_u64(3);
        let mut theirs = chacha20::ChaCha8Rng::seed_from_u64(3);
        ours.set_stream(5);
        theirs.set_stream(5);
        ours.core.core.state[12] = u32::MAX - 1;
        theirs.set_word_pos(((1u128 << 32) - 2) * 16);
        for k in 0..1000 {
            assert_eq!(ours.random::<u32>(), theirs.random::<u32>(), "draw {k} across the carry");
        }
        assert_eq!(ours.core.core.state[13], 1);
    }

    /// A stream saved part-way (at every offset within a buffer) and restored gives the words
    /// it would have given, on both generators, and both report the same position.
    #[test]
    fn saved_positions_resume_the_stream() {
        for skip in [0usize, 1, 15, 16, 17, 63, 64, 65, 127, 1000] {
            let mut ours = FourLanes::<[u32; 4]>::seed_from_u64(11);
            let mut theirs = chacha20::ChaCha8Rng::seed_from_u64(11);
            ours.set_stream(7);
            theirs.set_stream(7);
            for _ in 0..skip {
                assert_eq!(ours.random::<u32>(), theirs.random::<u32>());
            }
            assert_eq!(ours.get_word_pos(), theirs.get_word_pos(), "after {skip} words");
            let state = RngState::of(&theirs);
            let mut resumed = state.restore();
            let mut ours_resumed = FourLanes::<[u32; 4]>::from_seed(state.seed);
            ours_resumed.set_stream(state.stream);
            ours_resumed.set_word_pos(state.word_pos);
            for k in 0..300 {
                let next = theirs.random::<u64>();
                assert_eq!(resumed.random::<u64>(), next, "word {k} after {skip}");
                assert_eq!(ours_resumed.random::<u64>(), next, "word {k} after {skip}");
            }
        }
    }
}
