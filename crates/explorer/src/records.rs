//! Replication records as bytes, so that several Web Workers can each run some of a run's
//! replications and one of them aggregate all of them, in replication order, exactly as the
//! engine does in one process. Little-endian, every float as its bits: nothing is rounded.

use coprosim_core::observe::survival::SpellHistogram;
use coprosim_core::observe::{Fate, ReplicationRecord};

const NONE: u32 = u32::MAX;

struct Writer(Vec<u8>);

impl Writer {
    fn u32(&mut self, v: u32) {
        self.0.extend_from_slice(&v.to_le_bytes());
    }
    fn len(&mut self, n: usize) {
        self.u32(u32::try_from(n).expect("a record's lengths fit in 32 bits"));
    }
}

/// Append `records` to `out`.
pub fn encode(records: &[ReplicationRecord], out: &mut Vec<u8>) {
    let mut w = Writer(std::mem::take(out));
    w.len(records.len());
    for r in records {
        w.len(r.series.len());
        for v in &r.series {
            w.0.extend_from_slice(&v.to_bits().to_le_bytes());
        }
        w.len(r.spells.len());
        for h in &r.spells {
            w.len(h.events.len());
            for (e, c) in h.events.iter().zip(&h.censored) {
                w.0.extend_from_slice(&e.to_le_bytes());
                w.0.extend_from_slice(&c.to_le_bytes());
            }
        }
        for values in [&r.summary, &r.lorenz] {
            w.len(values.len());
            for v in values.iter() {
                w.0.extend_from_slice(&v.to_bits().to_le_bytes());
            }
        }
        w.len(r.fates.len());
        for f in &r.fates {
            w.u32(f.dissolved_at.unwrap_or(NONE));
            w.u32(f.contract_lapsed_at.unwrap_or(NONE));
            w.0.push(u8::from(f.has_contract));
        }
    }
    *out = w.0;
}

struct Reader<'a>(&'a [u8]);

impl Reader<'_> {
    fn take<const N: usize>(&mut self) -> Result<[u8; N], String> {
        if self.0.len() < N {
            return Err("the replication records are cut short".into());
        }
        let (head, rest) = self.0.split_at(N);
        self.0 = rest;
        Ok(head.try_into().expect("N bytes"))
    }
    fn u32(&mut self) -> Result<u32, String> {
        Ok(u32::from_le_bytes(self.take()?))
    }
    fn u64(&mut self) -> Result<u64, String> {
        Ok(u64::from_le_bytes(self.take()?))
    }
    fn len(&mut self) -> Result<usize, String> {
        let n = self.u32()? as usize;
        // A length can never exceed what is left: refuse garbage before allocating for it.
        if n > self.0.len() { Err("the replication records are malformed".into()) } else { Ok(n) }
    }
    fn optional(&mut self) -> Result<Option<u32>, String> {
        let v = self.u32()?;
        Ok((v != NONE).then_some(v))
    }
}

/// Every record in `bytes` (one or more [`encode`]d batches, one after another).
pub fn decode(bytes: &[u8]) -> Result<Vec<ReplicationRecord>, String> {
    let mut r = Reader(bytes);
    let mut out = Vec::new();
    while !r.0.is_empty() {
        for _ in 0..r.len()? {
            let series = (0..r.len()?).map(|_| Ok(f32::from_bits(r.u32()?))).collect::<Result<_, String>>()?;
            let mut spells = Vec::new();
            for _ in 0..r.len()? {
                let n = r.len()?;
                let mut h = SpellHistogram { events: Vec::with_capacity(n), censored: Vec::with_capacity(n) };
                for _ in 0..n {
                    h.events.push(r.u64()?);
                    h.censored.push(r.u64()?);
                }
                spells.push(h);
            }
            let mut floats =
                || -> Result<Vec<f64>, String> { (0..r.len()?).map(|_| Ok(f64::from_bits(r.u64()?))).collect() };
            let (summary, lorenz) = (floats()?, floats()?);
            let mut fates = Vec::new();
            for _ in 0..r.len()? {
                let (dissolved_at, contract_lapsed_at) = (r.optional()?, r.optional()?);
                let has_contract = r.take::<1>()?[0] != 0;
                fates.push(Fate { dissolved_at, contract_lapsed_at, has_contract });
            }
            out.push(ReplicationRecord { series, spells, summary, lorenz, fates });
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use coprosim_core::engine;
    use coprosim_core::observe::Catalogue;
    use coprosim_core::scenario::Scenario;

    #[test]
    fn records_survive_the_trip_bit_for_bit_and_garbage_is_refused() {
        let mut s = Scenario::baseline();
        (s.simulation.burn_in_years, s.simulation.years, s.population.size) = (0, 2, 300);
        let cat = Catalogue::new(&s);
        let records: Vec<ReplicationRecord> = (0..3).map(|r| engine::run_replication(&s, &cat, 5, r)).collect();
        // Two batches, as two workers send them.
        let mut bytes = Vec::new();
        encode(&records[..1], &mut bytes);
        encode(&records[1..], &mut bytes);
        let back = decode(&bytes).unwrap();
        assert_eq!(back.len(), 3);
        assert_eq!(engine::results_of(&s, &back).digest(), engine::results_of(&s, &records).digest());
        assert!(decode(&bytes[..bytes.len() - 3]).is_err());
        assert!(decode(&[255, 255, 255, 255]).is_err());
    }
}
