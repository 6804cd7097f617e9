//! Funding streams and shocks (MODEL.md step 1): member donations, philanthropic grants with
//! fixed terms and uncertain renewal, a government contract renewed on measured performance,
//! earned income, scheduled permanent cuts and stochastic temporary ones.

use crate::distributions::Beta;
use crate::scenario::{self, Stream};
use crate::stream::ChaCha8Rng;
use rand::RngExt;
use rand::distr::Distribution;

/// Streams in the order of [`Inflow`]'s fields.
const STREAMS: usize = 4;
const DONATIONS: usize = 0;
const GRANTS: usize = 1;
const CONTRACT: usize = 2;
const EARNED: usize = 3;

fn stream_hits(stream: Stream, index: usize) -> bool {
    match stream {
        Stream::All => true,
        Stream::Donations => index == DONATIONS,
        Stream::Grants => index == GRANTS,
        Stream::Contract => index == CONTRACT,
        Stream::Earned => index == EARNED,
    }
}

/// How an award is renewed at the end of a term.
#[derive(Debug, Clone, Copy, serde::Serialize, serde::Deserialize)]
enum Renewal {
    /// Philanthropic: a fixed probability.
    Fixed(f64),
    /// Public contract: `base + performance * G`, capped at 1.
    Performance { base: f64, performance: f64 },
}

#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
enum AwardState {
    Pending,
    Active {
        until: u32,
    },
    /// Not renewed at the end of a term, at tick `at`.
    Ended {
        at: u32,
    },
}

/// A grant or contract: an amount per year over renewable terms.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
struct Award {
    per_tick: f64,
    start: u32,
    term: u32,
    renewal: Renewal,
    state: AwardState,
}

impl Award {
    fn advance(&mut self, t: u32, goal: f64, rng: &mut ChaCha8Rng) {
        match self.state {
            AwardState::Pending if t >= self.start => self.state = AwardState::Active { until: t + self.term },
            AwardState::Active { until } if t >= until => {
                let p = match self.renewal {
                    Renewal::Fixed(p) => p,
                    Renewal::Performance { base, performance } => (base + performance * goal).min(1.0),
                };
                self.state = if rng.random::<f64>() < p {
                    AwardState::Active { until: until + self.term }
                } else {
                    AwardState::Ended { at: t }
                };
            }
            _ => {}
        }
    }

    fn paying(&self) -> f64 {
        if matches!(self.state, AwardState::Active { .. }) { self.per_tick } else { 0.0 }
    }
}

/// Money arriving this tick, by stream, after cuts.
#[derive(Debug, Clone, Copy, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Inflow {
    /// Member donations.
    pub donations: f64,
    /// Philanthropic grants.
    pub grants: f64,
    /// Government contract.
    pub contract: f64,
    /// Earned income.
    pub earned: f64,
}

impl Inflow {
    /// All streams together.
    pub fn total(&self) -> f64 {
        self.donations + self.grants + self.contract + self.earned
    }

    /// Share of the inflow that is public money (0 when nothing arrives).
    pub fn public_share(&self) -> f64 {
        let total = self.total();
        if total > 0.0 { self.contract / total } else { 0.0 }
    }
}

#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
struct TemporaryCut {
    until: u32,
    stream: Stream,
    keep: f64,
}

/// Random-shock settings in per-tick units.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
struct RandomShocks {
    probability: f64,
    stream: Stream,
    size: Option<Beta>,
    duration: u32,
}

/// One coalition's funding streams and the cuts applied to them.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct Funding {
    donation_per_member_tick: f64,
    earned_per_tick: f64,
    grants: Vec<Award>,
    contract: Option<Award>,
    /// Scheduled cuts: (tick, stream, share kept).
    scheduled: Vec<(u32, Stream, f64)>,
    random: RandomShocks,
    temporary: Vec<TemporaryCut>,
}

impl Funding {
    /// Set up a coalition's funding from the scenario.
    pub fn new(s: &scenario::Scenario, coalition: &scenario::Coalition) -> Funding {
        let tpy = s.simulation.ticks_per_year as f64;
        let ticks = |years: f64| (years * tpy).round() as u32;
        let f = &coalition.funding;
        let grants = f
            .grants
            .iter()
            .map(|g| Award {
                per_tick: g.amount / tpy,
                start: ticks(g.start_year),
                term: ticks(g.term_years).max(1),
                renewal: Renewal::Fixed(g.renewal_probability),
                state: AwardState::Pending,
            })
            .collect();
        let contract = f.contract.as_ref().map(|c| Award {
            per_tick: c.amount / tpy,
            start: ticks(c.start_year),
            term: ticks(c.term_years).max(1),
            renewal: Renewal::Performance { base: c.renewal_base, performance: c.renewal_performance },
            state: AwardState::Pending,
        });
        let scheduled = s
            .policy
            .shocks
            .iter()
            .filter(|sh| sh.coalition.is_empty() || sh.coalition == coalition.name)
            .filter(|sh| sh.area.is_empty() || sh.area == coalition.area)
            .map(|sh| (ticks(sh.year), sh.stream, 1.0 - sh.cut))
            .collect();
        let r = &s.policy.random_shocks;
        let random = RandomShocks {
            probability: 1.0 - libm::exp(-r.rate_per_year / tpy),
            stream: r.stream,
            size: Beta::new(r.cut_alpha, r.cut_beta),
            duration: ((r.duration_weeks / s.weeks_per_tick()).round() as u32).max(1),
        };
        Funding {
            donation_per_member_tick: f.donation_per_member / tpy,
            earned_per_tick: f.earned_income / tpy,
            grants,
            contract,
            scheduled,
            random,
            temporary: Vec::new(),
        }
    }

    /// Take new amounts and renewal terms from a changed scenario (a policy change), keeping
    /// the awards' schedules and states and the cuts already scheduled or under way.
    pub fn retune(&mut self, s: &scenario::Scenario, coalition: &scenario::Coalition) {
        let new = Funding::new(s, coalition);
        self.donation_per_member_tick = new.donation_per_member_tick;
        self.earned_per_tick = new.earned_per_tick;
        for (old, new) in self.grants.iter_mut().zip(&new.grants) {
            old.per_tick = new.per_tick;
            old.renewal = new.renewal;
        }
        if let (Some(old), Some(new)) = (&mut self.contract, &new.contract) {
            old.per_tick = new.per_tick;
            old.renewal = new.renewal;
        }
    }

    /// Whether funding read back from a saved state has the awards `founded` has.
    pub fn check_saved(&self, founded: &Funding) -> Result<(), String> {
        if self.grants.len() != founded.grants.len() || self.contract.is_some() != founded.contract.is_some() {
            return Err("its grants or contract are not the scenario's".into());
        }
        Ok(())
    }

    /// Take the scheduled cuts of `s`, keeping everything else (a warm start: the cuts of a
    /// resumed world are its new scenario's).
    pub fn reschedule_cuts(&mut self, s: &scenario::Scenario, coalition: &scenario::Coalition) {
        self.scheduled = Funding::new(s, coalition).scheduled;
    }

    /// Start, renew or end awards, and draw this tick's random shock. Renewal of the contract
    /// reads last tick's goal attainment.
    pub fn advance(&mut self, t: u32, goal: f64, rng: &mut ChaCha8Rng) {
        for g in &mut self.grants {
            g.advance(t, goal, rng);
        }
        if let Some(c) = &mut self.contract {
            c.advance(t, goal, rng);
        }
        self.temporary.retain(|cut| cut.until > t);
        if self.random.probability > 0.0
            && rng.random::<f64>() < self.random.probability
            && let Some(size) = &self.random.size
        {
            let cut = size.sample(rng);
            self.temporary.push(TemporaryCut {
                until: t + self.random.duration,
                stream: self.random.stream,
                keep: 1.0 - cut,
            });
        }
    }

    /// Share of stream `index` that survives the cuts in force at tick `t`.
    fn kept(&self, index: usize, t: u32) -> f64 {
        let scheduled = self
            .scheduled
            .iter()
            .filter(|(at, stream, _)| *at <= t && stream_hits(*stream, index))
            .map(|(_, _, keep)| keep)
            .product::<f64>();
        let temporary = self.temporary.iter().filter(|c| stream_hits(c.stream, index)).map(|c| c.keep).product::<f64>();
        scheduled * temporary
    }

    /// The tick at which the government contract lapsed (was not renewed), if it has.
    pub fn contract_lapsed_at(&self) -> Option<u32> {
        match self.contract.as_ref()?.state {
            AwardState::Ended { at } => Some(at),
            _ => None,
        }
    }

    /// Whether the coalition has a government contract at all (running, pending or lapsed).
    pub fn has_contract(&self) -> bool {
        self.contract.is_some()
    }

    /// Money arriving at tick `t` given last tick's members and goal attainment.
    pub fn inflow(&self, t: u32, members: u32, goal: f64) -> Inflow {
        let mut kept = [1.0; STREAMS];
        for (i, k) in kept.iter_mut().enumerate() {
            *k = self.kept(i, t);
        }
        Inflow {
            donations: self.donation_per_member_tick * members as f64 * kept[DONATIONS],
            grants: self.grants.iter().map(Award::paying).sum::<f64>() * kept[GRANTS],
            contract: self.contract.as_ref().map_or(0.0, Award::paying) * kept[CONTRACT],
            earned: self.earned_per_tick * goal * kept[EARNED],
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::Scenario;
    use rand::SeedableRng;

    fn scenario(extra: &str) -> Scenario {
        let text = format!(
            "name = \"f\"\n[[population.groups]]\nname = \"all\"\nshare = 1.0\n{extra}\n[[coalitions]]\nname = \"c\"\n[coalitions.funding]\ndonation_per_member = 52\n[[coalitions.funding.grants]]\namount = 5200\nterm_years = 1\nrenewal_probability = 0.0\n[coalitions.funding.contract]\namount = 10400\nstart_year = 1\n"
        );
        Scenario::parse(&text, "t").unwrap()
    }

    #[test]
    fn grants_end_without_renewal_and_contracts_start_on_time() {
        let s = scenario("");
        let mut f = Funding::new(&s, &s.coalitions[0]);
        let mut rng = ChaCha8Rng::seed_from_u64(0);
        f.advance(0, 0.5, &mut rng);
        let first = f.inflow(0, 10, 0.5);
        assert_eq!(first, Inflow { donations: 10.0, grants: 100.0, contract: 0.0, earned: 0.0 });
        for t in 1..=52 {
            f.advance(t, 0.5, &mut rng);
        }
        let later = f.inflow(52, 10, 0.5);
        assert_eq!(later.grants, 0.0, "a grant with renewal probability 0 ends after its term");
        assert_eq!(later.contract, 200.0);
        assert_eq!(later.public_share(), 200.0 / 210.0);
    }

    #[test]
    fn scheduled_cut_hits_only_its_stream_from_its_year() {
        let s = scenario("[[policy.shocks]]\nyear = 2\nstream = \"contract\"\ncut = 0.5");
        let mut f = Funding::new(&s, &s.coalitions[0]);
        let mut rng = ChaCha8Rng::seed_from_u64(0);
        for t in 0..=104 {
            f.advance(t, 1.0, &mut rng);
        }
        assert_eq!(f.inflow(103, 10, 1.0).contract, 200.0);
        assert_eq!(f.inflow(104, 10, 1.0).contract, 100.0);
        assert_eq!(f.inflow(104, 10, 1.0).donations, 10.0);
    }
}
