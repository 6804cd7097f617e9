//! What is observed (MODEL.md "What is observed"): per-tick series, membership spells for
//! survival, participation inequality, and their statistics across replications.
//!
//! A [`Recorder`] watches one replication and streams what it needs into fixed-size
//! aggregates (series rows, spell histograms, retention counts), so memory is proportional to
//! agents plus ticks, never agents × ticks. [`aggregate`] then reduces replications in
//! replication order.

pub mod detail;
pub mod diagnostics;
mod digest;
pub mod inequality;
pub mod morris;
pub mod reading;
pub mod sensitivity;
pub mod sobol_sequence;
pub mod stats;
pub mod survival;

use crate::model::{Model, OUTSIDE};
use crate::scenario::Scenario;
use stats::{Domain, Summary, summarise};
use survival::{SpellHistogram, kaplan_meier};

/// A per-tick quantity.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Metric {
    /// Members at the end of the tick.
    Members,
    /// Joins during the tick.
    Joins,
    /// Exits during the tick.
    Exits,
    /// Group's share of all members.
    MemberShare,
    /// Share of members with lived experience.
    LivedExperienceShare,
    /// Professionalisation P.
    Professionalisation,
    /// Perceived fairness F.
    Fairness,
    /// Mission alignment M.
    MissionAlignment,
    /// Goal attainment G.
    GoalAttainment,
    /// Leadership engagement L.
    Leadership,
    /// Budget reserve.
    Budget,
    /// Share of members a year ago who are members now.
    AnnualRetention,
    /// Coalitions still operating.
    CoalitionsActive,
    /// Member donations received, at a yearly rate.
    IncomeDonations,
    /// Philanthropic grants received, at a yearly rate.
    IncomeGrants,
    /// Government contract payments received, at a yearly rate.
    IncomeContract,
    /// Earned income received, at a yearly rate.
    IncomeEarned,
    /// Spending on staff, outreach and stipends, at a yearly rate.
    Spending,
    /// Roles the coalition offers (undefined without role capacity).
    Roles,
    /// Of those, roles that require credentials (undefined without role capacity).
    CredentialedRoles,
    /// Members holding a role: all of them within capacity, the roles beyond it.
    RolesFilled,
    /// Distinct agents who were members at some tick of the last completed recorded year.
    ParticipantsLastYear,
    /// Roles the coalition offers that nobody holds (undefined without role capacity).
    Vacancies,
    /// Outsiders who applied for one of the coalition's limited roles during the tick.
    Applicants,
    /// Applicants turned away during the tick for want of a vacant role.
    TurnedAway,
}

impl Metric {
    /// Name used in the CSV files.
    pub fn name(self) -> &'static str {
        match self {
            Metric::Members => "members",
            Metric::Joins => "joins",
            Metric::Exits => "exits",
            Metric::MemberShare => "member_share",
            Metric::LivedExperienceShare => "lived_experience_share",
            Metric::Professionalisation => "professionalisation",
            Metric::Fairness => "fairness",
            Metric::MissionAlignment => "mission_alignment",
            Metric::GoalAttainment => "goal_attainment",
            Metric::Leadership => "leadership",
            Metric::Budget => "budget",
            Metric::AnnualRetention => "annual_retention",
            Metric::CoalitionsActive => "coalitions_active",
            Metric::IncomeDonations => "income_donations",
            Metric::IncomeGrants => "income_grants",
            Metric::IncomeContract => "income_contract",
            Metric::IncomeEarned => "income_earned",
            Metric::Spending => "spending",
            Metric::Roles => "roles",
            Metric::CredentialedRoles => "credentialed_roles",
            Metric::RolesFilled => "roles_filled",
            Metric::ParticipantsLastYear => "participants_last_year",
            Metric::Vacancies => "vacancies",
            Metric::Applicants => "applicants",
            Metric::TurnedAway => "turned_away",
        }
    }
}

impl Metric {
    /// Whether it counts events during a tick (joins, exits, applicants, people turned away),
    /// so that its total over a year means something.
    pub fn counts_events(self) -> bool {
        matches!(self, Metric::Joins | Metric::Exits | Metric::Applicants | Metric::TurnedAway)
    }
}

/// One series: a metric for a coalition (None = all) and a group (None = all).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SeriesKey {
    /// Coalition index, or all coalitions.
    pub coalition: Option<usize>,
    /// Group index, or all groups.
    pub group: Option<usize>,
    /// The quantity.
    pub metric: Metric,
}

/// The series a scenario produces, in output order, with the names to label them.
#[derive(Debug, Clone)]
pub struct Catalogue {
    /// Series in output order.
    pub series: Vec<SeriesKey>,
    /// Coalition names.
    pub coalitions: Vec<String>,
    /// Group names.
    pub groups: Vec<String>,
    /// Each group's share of the population (after rounding to whole agents).
    pub population_shares: Vec<f64>,
    /// Area names (none when the scenario has no areas). Outputs keyed by group index
    /// `groups.len() + a` are area `a`'s: the `group` column of the CSV files names a group or
    /// an area.
    pub areas: Vec<String>,
    /// Each area's share of the population (after rounding to whole agents).
    pub area_shares: Vec<f64>,
    /// Ticks recorded (after the burn-in).
    pub ticks: u32,
    /// Tick from founding at which recording starts (the burn-in); row `t` of every series
    /// is tick `first_tick + t`.
    pub first_tick: u32,
    /// Ticks per year.
    pub ticks_per_year: u32,
    /// Weeks per tick.
    pub weeks_per_tick: f64,
}

impl Catalogue {
    /// The column of the series of total members (every coalition, every group).
    pub fn total_members_column(&self) -> usize {
        self.series
            .iter()
            .position(|k| k.metric == Metric::Members && k.coalition.is_none() && k.group.is_none())
            .expect("the catalogue records total members")
    }

    /// The catalogue for a scenario.
    pub fn new(s: &Scenario) -> Catalogue {
        let nc = s.coalitions.len();
        let ng = s.population.groups.len();
        let all_and = |n: usize| std::iter::once(None).chain((0..n).map(Some)).collect::<Vec<_>>();
        let mut series = Vec::new();
        for metric in [Metric::Members, Metric::Joins, Metric::Exits] {
            for &coalition in &all_and(nc) {
                for &group in &all_and(ng) {
                    series.push(SeriesKey { coalition, group, metric });
                }
            }
        }
        for g in 0..ng {
            series.push(SeriesKey { coalition: None, group: Some(g), metric: Metric::MemberShare });
        }
        for &group in &all_and(ng) {
            series.push(SeriesKey { coalition: None, group, metric: Metric::AnnualRetention });
        }
        for &coalition in &all_and(nc) {
            series.push(SeriesKey { coalition, group: None, metric: Metric::LivedExperienceShare });
        }
        for metric in [
            Metric::Professionalisation,
            Metric::Fairness,
            Metric::MissionAlignment,
            Metric::GoalAttainment,
            Metric::Leadership,
            Metric::Budget,
            Metric::IncomeDonations,
            Metric::IncomeGrants,
            Metric::IncomeContract,
            Metric::IncomeEarned,
            Metric::Spending,
        ] {
            for c in 0..nc {
                series.push(SeriesKey { coalition: Some(c), group: None, metric });
            }
        }
        series.push(SeriesKey { coalition: None, group: None, metric: Metric::CoalitionsActive });
        for metric in [Metric::Roles, Metric::CredentialedRoles, Metric::RolesFilled] {
            for c in 0..nc {
                series.push(SeriesKey { coalition: Some(c), group: None, metric });
            }
        }
        for &coalition in &all_and(nc) {
            series.push(SeriesKey { coalition, group: None, metric: Metric::ParticipantsLastYear });
        }
        for a in 0..s.population.areas.len() {
            series.push(SeriesKey { coalition: None, group: Some(ng + a), metric: Metric::Members });
        }
        for metric in [Metric::Vacancies, Metric::Applicants, Metric::TurnedAway] {
            for c in 0..nc {
                series.push(SeriesKey { coalition: Some(c), group: None, metric });
            }
        }
        let layout = crate::model::layout::Layout::new(s);
        let n = s.population.size as f64;
        Catalogue {
            series,
            coalitions: s.coalitions.iter().map(|c| c.name.clone()).collect(),
            groups: s.population.groups.iter().map(|g| g.name.clone()).collect(),
            population_shares: (0..ng).map(|g| f64::from(layout.group_size(g)) / n).collect(),
            areas: s.population.areas.iter().map(|a| a.name.clone()).collect(),
            area_shares: (0..s.population.areas.len()).map(|a| f64::from(layout.area_size(a)) / n).collect(),
            ticks: s.ticks(),
            first_tick: s.burn_in_ticks(),
            ticks_per_year: s.simulation.ticks_per_year,
            weeks_per_tick: s.weeks_per_tick(),
        }
    }

    /// Label of a coalition index (or "all").
    pub fn coalition_label(&self, c: Option<usize>) -> &str {
        c.map_or("all", |c| &self.coalitions[c])
    }

    /// Label of a group index (or "all"); indices past the groups are areas.
    pub fn group_label(&self, g: Option<usize>) -> &str {
        g.map_or("all", |g| if g < self.groups.len() { &self.groups[g] } else { &self.areas[g - self.groups.len()] })
    }

    /// The names the `group` column can hold besides "all": the groups, then the areas.
    pub fn group_labels(&self) -> Vec<String> {
        self.groups.iter().chain(&self.areas).cloned().collect()
    }

    /// The whole years (from founding) of the recorded period, with their rows (ticks from the
    /// start of recording).
    pub fn whole_years(&self) -> Vec<(f64, usize)> {
        let tpy = self.ticks_per_year;
        (self.first_tick..=self.first_tick + self.ticks)
            .filter(|t| t % tpy == 0)
            .map(|t| (f64::from(t / tpy), (t - self.first_tick) as usize))
            .collect()
    }

    /// Where series `metric` of a coalition and group (None = all) is read at `year` (from
    /// founding, a tick of the recorded period): its column in [`Catalogue::series`] order and
    /// its row (tick from the start of recording); or why it cannot be.
    pub fn series_at(
        &self,
        metric: &str,
        coalition: Option<usize>,
        group: Option<usize>,
        year: f64,
    ) -> Result<(usize, usize), String> {
        let column = self
            .series
            .iter()
            .position(|k| k.metric.name() == metric && k.coalition == coalition && k.group == group)
            .ok_or_else(|| {
                let mut names: Vec<&str> = Vec::new();
                for k in &self.series {
                    if !names.contains(&k.metric.name()) {
                        names.push(k.metric.name());
                    }
                }
                if names.contains(&metric) {
                    format!(
                        "series \"{metric}\" is not recorded for coalition \"{}\" and group \"{}\"; see series.csv for the combinations",
                        self.coalition_label(coalition),
                        self.group_label(group)
                    )
                } else {
                    format!("found series \"{metric}\", expected one of {}", names.join(", "))
                }
            })?;
        let tpy = self.ticks_per_year as f64;
        let tick = year * tpy;
        let first = self.first_tick as f64;
        let last = first + self.ticks as f64;
        if !tick.is_finite() || (tick - tick.round()).abs() > 1e-9 || tick < first || tick > last {
            return Err(format!(
                "found year {year}, expected a year of the recorded period, {} to {}, on a tick (a multiple of 1/{})",
                first / tpy,
                last / tpy,
                self.ticks_per_year
            ));
        }
        Ok((column, (tick.round() - first) as usize))
    }
}

/// Positions of the set bits of `word`, lowest first.
fn set_bits(mut word: u64) -> impl Iterator<Item = usize> {
    std::iter::from_fn(move || {
        (word != 0).then(|| {
            let b = word.trailing_zeros() as usize;
            word &= word - 1;
            b
        })
    })
}

/// Annual-retention bookkeeping: a ring of membership bitsets one year deep.
#[derive(Debug, Clone)]
struct RetentionRing {
    snapshots: Vec<Vec<u64>>,
    retained_now: Vec<u64>,
    base_now: Vec<u64>,
    retained_total: Vec<u64>,
    base_total: Vec<u64>,
}

/// Watches one replication and keeps only streamed aggregates.
#[derive(Debug, Clone)]
pub struct Recorder {
    width: usize,
    values: Vec<f32>,
    spells: Vec<SpellHistogram>,
    ring: RetentionRing,
    groups: usize,
    origin: u32,
    /// Agents who were members at some tick of the current recorded year.
    seen_this_year: Vec<u64>,
    /// Share of all agents who took part, per completed recorded year.
    yearly_participation: Vec<f64>,
    /// Agents who were members of coalition `c` at some tick of the current recorded year:
    /// `words` bits per coalition, coalition by coalition.
    seen_by_coalition: Vec<u64>,
    /// Participants of the last completed recorded year: all coalitions, then each (NaN
    /// before the first year is complete).
    participants_last_year: Vec<f64>,
}

/// What one replication leaves behind.
#[derive(Debug, Clone)]
pub struct ReplicationRecord {
    /// Series values, `(ticks + 1) × series`, row-major by tick (NaN = undefined).
    pub series: Vec<f32>,
    /// Spell histograms: all groups first, then each group.
    pub spells: Vec<SpellHistogram>,
    /// Headline scalars in [`summary_keys`] order.
    pub summary: Vec<f64>,
    /// Lorenz curve of participants' hours at [`LORENZ_POINTS`] + 1 grid points.
    pub lorenz: Vec<f64>,
    /// What became of each coalition, for the run's diagnostics.
    pub fates: Vec<Fate>,
}

/// What became of one coalition in one replication (ticks count from founding).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Fate {
    /// The tick it dissolved at, if it did.
    pub dissolved_at: Option<u32>,
    /// The tick its government contract lapsed at (was not renewed), if it did.
    pub contract_lapsed_at: Option<u32>,
    /// Whether it had a government contract at all.
    pub has_contract: bool,
}

/// Intervals of the Lorenz-curve grid (`p = 0, 1/k, …, 1`).
pub const LORENZ_POINTS: usize = 100;

impl Recorder {
    /// Start recording, and record the initial state as tick 0.
    pub fn new(cat: &Catalogue, model: &Model) -> Recorder {
        let ticks = cat.ticks as usize;
        let words = model.agents.len().div_ceil(64);
        let groups = model.group_count();
        let mut r = Recorder {
            width: cat.series.len(),
            values: Vec::with_capacity((ticks + 1) * cat.series.len()),
            spells: vec![SpellHistogram::new(ticks); groups + 1],
            ring: RetentionRing {
                snapshots: vec![vec![0u64; words]; cat.ticks_per_year as usize],
                retained_now: vec![0; groups + 1],
                base_now: vec![0; groups + 1],
                retained_total: vec![0; groups + 1],
                base_total: vec![0; groups + 1],
            },
            groups,
            origin: model.tick,
            seen_this_year: Vec::new(),
            yearly_participation: Vec::new(),
            seen_by_coalition: vec![0; words * model.coalitions.len()],
            participants_last_year: vec![f64::NAN; model.coalitions.len() + 1],
        };
        r.restart_coalition_year(model);
        let snapshot = &mut r.ring.snapshots[0];
        for (i, &m) in model.agents.membership.iter().enumerate() {
            if m != OUTSIDE {
                snapshot[i / 64] |= 1 << (i % 64);
            }
        }
        r.seen_this_year = r.ring.snapshots[0].clone();
        r.record_row(cat, model, false);
        r
    }

    /// Observe the tick the model just simulated: spells that ended, retention against the
    /// same tick a year ago, and the series row.
    pub fn observe(&mut self, cat: &Catalogue, model: &Model) {
        let t = (model.tick - self.origin) as usize;
        let a = &model.agents;
        let year = self.ring.snapshots.len();
        let words = a.len().div_ceil(64);
        let slot = t % year;
        let compare = t >= year;
        let ring = &mut self.ring;
        ring.retained_now.iter_mut().for_each(|x| *x = 0);
        ring.base_now.iter_mut().for_each(|x| *x = 0);
        let snapshot = &mut ring.snapshots[slot];
        // Word by word: 64 agents' membership as bits, so that retention is counted with
        // popcounts and only agents whose spell ended, or who are members, are visited alone.
        for (w, word) in snapshot.iter_mut().enumerate() {
            let (lo, hi) = (w * 64, (w * 64 + 64).min(a.len()));
            let (mut members, mut ended) = (0u64, 0u64);
            for (b, (&prev, &cur)) in a.previous[lo..hi].iter().zip(&a.membership[lo..hi]).enumerate() {
                members |= u64::from(cur != OUTSIDE) << b;
                ended |= u64::from(prev != OUTSIDE && cur != prev) << b;
            }
            for i in set_bits(ended).map(|b| lo + b) {
                // Spells begun in the burn-in are left out: their start was not observed.
                if a.spell_start[i] >= self.origin {
                    let duration = model.tick - a.spell_start[i];
                    self.spells[0].add(duration, true);
                    self.spells[a.group[i] as usize + 1].add(duration, true);
                }
            }
            if compare {
                let (base, kept) = (*word, *word & members);
                ring.base_now[0] += u64::from(base.count_ones());
                ring.retained_now[0] += u64::from(kept.count_ones());
                if a.group[lo] == a.group[hi - 1] {
                    // Agents are laid out by group, so a word is almost always one group's.
                    let g = a.group[lo] as usize + 1;
                    ring.base_now[g] += u64::from(base.count_ones());
                    ring.retained_now[g] += u64::from(kept.count_ones());
                } else {
                    for b in set_bits(base) {
                        let g = a.group[lo + b] as usize + 1;
                        ring.base_now[g] += 1;
                        ring.retained_now[g] += kept >> b & 1;
                    }
                }
            }
            *word = members;
            self.seen_this_year[w] |= members;
            for b in set_bits(members) {
                self.seen_by_coalition[a.membership[lo + b] as usize * words + w] |= 1 << b;
            }
        }
        if t.is_multiple_of(year) {
            let count = |bits: &[u64]| bits.iter().map(|w| w.count_ones() as u64).sum::<u64>();
            let took_part = count(&self.seen_this_year);
            self.yearly_participation.push(took_part as f64 / a.len() as f64);
            self.participants_last_year[0] = took_part as f64;
            for (c, bits) in self.seen_by_coalition.chunks(words).enumerate() {
                self.participants_last_year[c + 1] = count(bits) as f64;
            }
            self.seen_this_year.clone_from(&ring.snapshots[slot]);
        }
        if compare {
            for k in 0..=self.groups {
                ring.retained_total[k] += ring.retained_now[k];
                ring.base_total[k] += ring.base_now[k];
            }
        }
        self.record_row(cat, model, compare);
        if t.is_multiple_of(year) {
            self.restart_coalition_year(model);
        }
    }

    /// Start a recorded year's participants per coalition from the members at its first tick
    /// (as the year's participants of all coalitions start from the retention snapshot).
    fn restart_coalition_year(&mut self, model: &Model) {
        let words = model.agents.len().div_ceil(64);
        self.seen_by_coalition.iter_mut().for_each(|w| *w = 0);
        for (i, &m) in model.agents.membership.iter().enumerate() {
            if m != OUTSIDE {
                self.seen_by_coalition[m as usize * words + i / 64] |= 1 << (i % 64);
            }
        }
    }

    fn record_row(&mut self, cat: &Catalogue, model: &Model, retention: bool) {
        let tally = &model.tally;
        let groups = self.groups;
        let count = |v: &[u32], c: Option<usize>, g: Option<usize>| -> f64 {
            v.iter()
                .enumerate()
                .filter(|(k, _)| c.is_none_or(|c| k / groups == c) && g.is_none_or(|g| k % groups == g))
                .map(|(_, &x)| x as f64)
                .sum()
        };
        let ratio = |a: f64, b: f64| if b > 0.0 { a / b } else { f64::NAN };
        let per_year = cat.ticks_per_year as f64;
        for key in &cat.series {
            let coalition = key.coalition.map(|c| &model.coalitions[c]);
            let operating = |f: fn(&crate::model::Coalition) -> f64| match coalition {
                Some(c) if c.active => f(c),
                _ => f64::NAN,
            };
            let v = match key.metric {
                Metric::Members => match key.group {
                    Some(g) if g >= groups => tally.area_members[g - groups] as f64,
                    _ => count(&tally.members, key.coalition, key.group),
                },
                Metric::Joins => count(&tally.joins, key.coalition, key.group),
                Metric::Exits => count(&tally.exits, key.coalition, key.group),
                Metric::MemberShare => ratio(count(&tally.members, None, key.group), count(&tally.members, None, None)),
                Metric::LivedExperienceShare => {
                    let (lived, members) = match coalition {
                        Some(c) => (c.lived_members, c.members),
                        None => model.coalitions.iter().fold((0, 0), |(l, m), c| (l + c.lived_members, m + c.members)),
                    };
                    ratio(lived as f64, members as f64)
                }
                Metric::AnnualRetention => {
                    let k = key.group.map_or(0, |g| g + 1);
                    if retention {
                        ratio(self.ring.retained_now[k] as f64, self.ring.base_now[k] as f64)
                    } else {
                        f64::NAN
                    }
                }
                Metric::Professionalisation => operating(|c| c.professionalisation),
                Metric::Fairness => operating(|c| c.fairness),
                Metric::MissionAlignment => operating(|c| c.mission),
                Metric::GoalAttainment => operating(|c| c.goal),
                Metric::Leadership => operating(|c| c.leadership),
                Metric::Budget => operating(|c| c.budget),
                Metric::CoalitionsActive => model.coalitions.iter().filter(|c| surviving(c)).count() as f64,
                Metric::IncomeDonations => operating(|c| c.inflow.donations) * per_year,
                Metric::IncomeGrants => operating(|c| c.inflow.grants) * per_year,
                Metric::IncomeContract => operating(|c| c.inflow.contract) * per_year,
                Metric::IncomeEarned => operating(|c| c.inflow.earned) * per_year,
                Metric::Spending => operating(|c| c.spending) * per_year,
                // Unlimited roles (no role capacity) have no count to report.
                Metric::Roles => operating(|c| if c.roles.total.is_finite() { c.roles.total } else { f64::NAN }),
                Metric::CredentialedRoles => {
                    operating(|c| if c.roles.total.is_finite() { c.roles.credentialed } else { f64::NAN })
                }
                Metric::RolesFilled => operating(|c| c.roles.filled(c.members, c.credentialed_members)),
                Metric::ParticipantsLastYear => self.participants_last_year[key.coalition.map_or(0, |c| c + 1)],
                Metric::Vacancies => operating(|c| {
                    if c.roles.total.is_finite() {
                        (c.roles.total - c.roles.filled(c.members, c.credentialed_members)).max(0.0)
                    } else {
                        f64::NAN
                    }
                }),
                Metric::Applicants => key.coalition.map_or(f64::NAN, |c| tally.applicants[c] as f64),
                Metric::TurnedAway => key.coalition.map_or(f64::NAN, |c| tally.turned_away[c] as f64),
            };
            self.values.push(v as f32);
        }
        debug_assert_eq!(self.values.len() % self.width, 0);
    }

    /// Close the replication: censor running spells at the horizon and compute the headline
    /// scalars.
    pub fn finish(mut self, cat: &Catalogue, model: &Model) -> ReplicationRecord {
        let a = &model.agents;
        for i in 0..a.len() {
            if a.membership[i] != OUTSIDE && a.spell_start[i] >= self.origin {
                let duration = model.tick - a.spell_start[i];
                self.spells[0].add(duration, false);
                self.spells[a.group[i] as usize + 1].add(duration, false);
            }
        }
        let hours: Vec<f64> = a.hours_total.iter().copied().filter(|&h| h > 0.0).collect();
        let summary = self.headline(cat, model, &hours);
        let lorenz = inequality::lorenz(&hours, LORENZ_POINTS);
        let fates = model
            .coalitions
            .iter()
            .map(|c| Fate {
                dissolved_at: c.dissolved_at,
                contract_lapsed_at: c.contract_lapsed_at(),
                has_contract: c.has_contract(),
            })
            .collect();
        ReplicationRecord { series: self.values, spells: self.spells, summary, lorenz, fates }
    }

    fn headline(&self, cat: &Catalogue, model: &Model, hours: &[f64]) -> Vec<f64> {
        let ng = self.groups;
        let mut members_by_group = vec![0u32; ng];
        for row in model.tally.members.chunks(ng) {
            members_by_group.iter_mut().zip(row).for_each(|(total, m)| *total += m);
        }
        let total_members: u32 = members_by_group.iter().sum();
        let year = cat.ticks_per_year as usize;
        summary_keys(cat)
            .iter()
            .map(|key| {
                let k = key.group.map_or(0, |g| g + 1);
                let ratio = |x: f64, y: f64| if y > 0.0 { x / y } else { f64::NAN };
                match key.metric {
                    "annual_retention" => ratio(self.ring.retained_total[k] as f64, self.ring.base_total[k] as f64),
                    "one_year_survival" => {
                        let km = kaplan_meier(&self.spells[k]);
                        km.get(year).map_or(f64::NAN, |p| p.survival)
                    }
                    "final_members" => match (key.coalition, key.group) {
                        (Some(c), _) => model.coalitions[c].members as f64,
                        (None, Some(g)) if g >= ng => model.tally.area_members[g - ng] as f64,
                        (None, Some(g)) => members_by_group[g] as f64,
                        (None, None) => total_members as f64,
                    },
                    "member_share" => ratio(members_by_group[key.group.unwrap()] as f64, total_members as f64),
                    "population_share" => cat.population_shares[key.group.unwrap()],
                    "representation_ratio" => match key.group.unwrap() {
                        g if g >= ng => {
                            ratio(model.tally.area_members[g - ng] as f64, total_members as f64)
                                / cat.area_shares[g - ng]
                        }
                        g => ratio(members_by_group[g] as f64, total_members as f64) / cat.population_shares[g],
                    },
                    "lived_experience_share" => {
                        let lived: u32 = model.coalitions.iter().map(|c| c.lived_members).sum();
                        ratio(lived as f64, total_members as f64)
                    }
                    "participants" => hours.len() as f64,
                    "top10_hours_share" => inequality::top_share(hours, 0.1),
                    "top25_hours_share" => inequality::top_share(hours, 0.25),
                    "gini_hours" => inequality::gini(hours),
                    "coalitions_surviving" => model.coalitions.iter().filter(|c| surviving(c)).count() as f64,
                    "members_trend" => self.members_trend(cat),
                    "contract_share" => self.contract_share(cat, key.coalition.expect("per coalition")),
                    "annual_participation" => {
                        let years = &self.yearly_participation;
                        if years.is_empty() { f64::NAN } else { years.iter().sum::<f64>() / years.len() as f64 }
                    }
                    "members_per_1000" => {
                        let residents = model.agents.len() as f64;
                        match key.group {
                            Some(g) if g >= ng => {
                                ratio(model.tally.area_members[g - ng] as f64, residents * cat.area_shares[g - ng])
                                    * 1000.0
                            }
                            Some(g) => ratio(members_by_group[g] as f64, residents * cat.population_shares[g]) * 1000.0,
                            None => ratio(total_members as f64, residents) * 1000.0,
                        }
                    }
                    "vacancies" => self.mean_over_recorded(cat, Metric::Vacancies, key.coalition),
                    "turned_away_per_year" => {
                        self.mean_over_recorded(cat, Metric::TurnedAway, key.coalition) * cat.ticks_per_year as f64
                    }
                    "years_at_capacity" => self.years_at_capacity(cat, key.coalition),
                    other => unreachable!("summary metric {other} has no definition"),
                }
            })
            .collect()
    }
}

/// A programme-year counts as at capacity when its roles were on average at least this full.
pub const AT_CAPACITY: f64 = 0.95;

impl Recorder {
    /// The column of series `metric` for coalition `c` (per coalition series only).
    fn column(cat: &Catalogue, metric: Metric, c: usize) -> usize {
        cat.series
            .iter()
            .position(|k| k.metric == metric && k.coalition == Some(c) && k.group.is_none())
            .expect("the catalogue records it per coalition")
    }

    /// Mean per recorded tick of a per-coalition series, over the ticks where it is defined;
    /// for all coalitions (None), the sum over coalitions defined at each tick, averaged over
    /// the ticks where any is. NaN where it is never defined.
    fn mean_over_recorded(&self, cat: &Catalogue, metric: Metric, coalition: Option<usize>) -> f64 {
        let columns: Vec<usize> = match coalition {
            Some(c) => vec![Self::column(cat, metric, c)],
            None => (0..cat.coalitions.len()).map(|c| Self::column(cat, metric, c)).collect(),
        };
        let (mut total, mut ticks) = (0.0, 0u32);
        // Row 0 is the state when recording starts: it belongs to the burn-in.
        for row in self.values.chunks(self.width).skip(1) {
            let defined: Vec<f64> = columns.iter().map(|&k| row[k] as f64).filter(|v| v.is_finite()).collect();
            if !defined.is_empty() {
                total += defined.iter().sum::<f64>();
                ticks += 1;
            }
        }
        if ticks > 0 { total / f64::from(ticks) } else { f64::NAN }
    }

    /// Share of the recorded programme-years (a coalition's complete recorded years, while it
    /// operated with limited roles for at least half of the year) in which it held on average
    /// at least [`AT_CAPACITY`] of its roles: for one coalition, or pooled over all. NaN
    /// without role capacity.
    fn years_at_capacity(&self, cat: &Catalogue, coalition: Option<usize>) -> f64 {
        let year = cat.ticks_per_year as usize;
        let rows = self.values.len() / self.width;
        let coalitions: Vec<usize> = coalition.map_or_else(|| (0..cat.coalitions.len()).collect(), |c| vec![c]);
        let (mut full, mut years) = (0u32, 0u32);
        for c in coalitions {
            let (roles, filled) = (Self::column(cat, Metric::Roles, c), Self::column(cat, Metric::RolesFilled, c));
            for first in (1..rows).step_by(year).filter(|first| first + year <= rows) {
                let fills: Vec<f64> = (first..first + year)
                    .filter_map(|t| {
                        let (r, f) =
                            (self.values[t * self.width + roles] as f64, self.values[t * self.width + filled] as f64);
                        // A programme with no roles has none vacant.
                        r.is_finite().then(|| if r > 0.0 { f / r } else { 1.0 })
                    })
                    .collect();
                if 2 * fills.len() >= year {
                    years += 1;
                    full += u32::from(fills.iter().sum::<f64>() / fills.len() as f64 >= AT_CAPACITY);
                }
            }
        }
        if years > 0 { f64::from(full) / f64::from(years) } else { f64::NAN }
    }
}

/// Years at the end of the recorded period over which [`Recorder::members_trend`] is fitted.
pub const TREND_YEARS: u32 = 5;

impl Recorder {
    /// The steady-state diagnostic: the least-squares slope of total members against time
    /// over the last [`TREND_YEARS`] recorded years (all of them if fewer), per year, as a
    /// share of the mean membership over that window. Near 0 when the recorded period is
    /// stationary; 0.05 means membership still grows by 5% of its level a year.
    fn members_trend(&self, cat: &Catalogue) -> f64 {
        let column = cat.total_members_column();
        let rows = self.values.len() / self.width;
        let window = ((TREND_YEARS * cat.ticks_per_year) as usize + 1).min(rows);
        let ys: Vec<f64> = (rows - window..rows).map(|t| self.values[t * self.width + column] as f64).collect();
        trend_share_per_year(&ys, cat.ticks_per_year as f64)
    }
}

impl Recorder {
    /// Share of coalition `c`'s income over the recorded ticks that came from its contract
    /// (NaN when it received nothing), from the recorded income series.
    fn contract_share(&self, cat: &Catalogue, c: usize) -> f64 {
        let column = |m: Metric| {
            cat.series
                .iter()
                .position(|k| k.metric == m && k.coalition == Some(c))
                .expect("the catalogue records income per coalition")
        };
        let streams =
            [Metric::IncomeDonations, Metric::IncomeGrants, Metric::IncomeContract, Metric::IncomeEarned].map(column);
        let (mut contract, mut total) = (0.0, 0.0);
        // Row 0 is the state before the first recorded tick: its income belongs to the burn-in.
        for row in self.values.chunks(self.width).skip(1) {
            for (i, &col) in streams.iter().enumerate() {
                let v = row[col] as f64;
                if v.is_finite() {
                    total += v;
                    if i == 2 {
                        contract += v;
                    }
                }
            }
        }
        if total > 0.0 { contract / total } else { f64::NAN }
    }
}

/// Least-squares slope of `ys` (one value per tick) per year, as a share of their mean; NaN
/// with fewer than two points or a mean of zero.
pub fn trend_share_per_year(ys: &[f64], ticks_per_year: f64) -> f64 {
    let n = ys.len() as f64;
    if ys.len() < 2 {
        return f64::NAN;
    }
    let mean_x = (n - 1.0) / 2.0;
    let mean_y = ys.iter().sum::<f64>() / n;
    let (mut sxy, mut sxx) = (0.0, 0.0);
    for (x, y) in ys.iter().enumerate() {
        let dx = x as f64 - mean_x;
        sxy += dx * (y - mean_y);
        sxx += dx * dx;
    }
    if mean_y <= 0.0 { f64::NAN } else { sxy / sxx * ticks_per_year / mean_y }
}

/// A headline quantity of `summary.csv`.
#[derive(Debug, Clone, PartialEq)]
pub struct SummaryKey {
    /// Metric name.
    pub metric: &'static str,
    /// Coalition, or all.
    pub coalition: Option<usize>,
    /// Group, or all.
    pub group: Option<usize>,
    /// What it measures, for the docs and the report.
    pub doc: &'static str,
}

/// Whether a coalition counts as surviving: not dissolved, and with members. (A coalition
/// with no members is still within its grace period, not surviving.)
fn surviving(c: &crate::model::Coalition) -> bool {
    c.active && c.members > 0
}

/// The values a headline metric (a `summary.csv` metric, or a sweep output) can take, which
/// its intervals respect, in a scenario with `coalitions` coalitions.
pub fn summary_domain(metric: &str, coalitions: usize) -> Domain {
    match metric {
        "annual_retention"
        | "one_year_survival"
        | "member_share"
        | "population_share"
        | "lived_experience_share"
        | "top10_hours_share"
        | "top25_hours_share"
        | "annual_participation"
        | "contract_share"
        | "years_at_capacity"
        | "gini_hours" => Domain::Share,
        "coalitions_surviving" if coalitions > 0 => Domain::UpTo(coalitions as f64),
        "final_members"
        | "participants"
        | "coalitions_surviving"
        | "representation_ratio"
        | "members_per_1000"
        | "vacancies"
        | "turned_away_per_year" => Domain::NonNegative,
        // Series read at a year (sweep outputs `metric@YEAR`).
        "coalitions_active" if coalitions > 0 => Domain::UpTo(coalitions as f64),
        "members"
        | "joins"
        | "exits"
        | "coalitions_active"
        | "income_donations"
        | "income_grants"
        | "income_contract"
        | "income_earned"
        | "spending"
        | "roles"
        | "credentialed_roles"
        | "roles_filled"
        | "participants_last_year"
        | "applicants"
        | "turned_away" => Domain::NonNegative,
        _ => Domain::Real,
    }
}

/// The headline quantities, in output order.
pub fn summary_keys(cat: &Catalogue) -> Vec<SummaryKey> {
    let ng = cat.groups.len();
    let nc = cat.coalitions.len();
    let all_and = |n: usize| std::iter::once(None).chain((0..n).map(Some)).collect::<Vec<_>>();
    let mut keys = Vec::new();
    let mut push = |metric, coalition, group, doc| keys.push(SummaryKey { metric, coalition, group, doc });
    // A total pools every group's members within each replication and is then averaged over
    // replications, so it weighs each replication's groups by their members there; a group's
    // average counts every replication in which it had members alike. Where a group retains
    // better it also has more members, and the total can lie outside the groups' averages: a
    // composition effect, which the descriptions say (docs/ODD.md §7.6).
    macro_rules! pooled_or_per_group {
        ($doc:literal) => {
            [
                concat!(
                    $doc,
                    "; all groups pooled within each replication, then averaged over replications, so a composition effect can put it outside the groups' averages (in a replication where a group retains better it also has more members)"
                ),
                concat!($doc, "; averaged over the replications in which the group had members"),
            ]
        };
    }
    let [all, group] =
        pooled_or_per_group!("share of members at t-52 weeks still members at t, pooled over the horizon after year 1");
    for g in all_and(ng) {
        push("annual_retention", None, g, if g.is_none() { all } else { group });
    }
    let [all, group] = pooled_or_per_group!("Kaplan-Meier probability a membership spell lasts beyond one year");
    for g in all_and(ng) {
        push("one_year_survival", None, g, if g.is_none() { all } else { group });
    }
    push("final_members", None, None, "members at the horizon");
    for c in 0..nc {
        push("final_members", Some(c), None, "members of the coalition at the horizon");
    }
    let na = cat.areas.len();
    for g in 0..ng {
        push("final_members", None, Some(g), "members of the group at the horizon");
    }
    for a in 0..na {
        push("final_members", None, Some(ng + a), "members living in the area at the horizon");
    }
    push("members_per_1000", None, None, "members at the horizon per 1,000 residents");
    for g in 0..ng {
        push("members_per_1000", None, Some(g), "members of the group at the horizon per 1,000 of its residents");
    }
    for a in 0..na {
        push(
            "members_per_1000",
            None,
            Some(ng + a),
            "members living in the area at the horizon per 1,000 of its residents",
        );
    }
    for g in 0..ng {
        push("member_share", None, Some(g), "group's share of members at the horizon");
        push("population_share", None, Some(g), "group's share of the population");
        push("representation_ratio", None, Some(g), "member share / population share (1 = representative)");
    }
    for a in 0..na {
        push(
            "representation_ratio",
            None,
            Some(ng + a),
            "the area's share of members / its share of the population (1 = representative)",
        );
    }
    push("lived_experience_share", None, None, "share of members with lived experience at the horizon");
    push("participants", None, None, "agents who were members at any time");
    push(
        "annual_participation",
        None,
        None,
        "share of all residents who were members at some time in a year, averaged over the recorded years",
    );
    push("top10_hours_share", None, None, "share of all hours given by the top 10% of participants");
    push("top25_hours_share", None, None, "share of all hours given by the top 25% of participants");
    push("gini_hours", None, None, "Gini coefficient of hours contributed by participants");
    push("coalitions_surviving", None, None, "coalitions still operating, with members, at the horizon");
    for c in 0..nc {
        push(
            "contract_share",
            Some(c),
            None,
            "share of the coalition's income over the recorded period that came from its government contract",
        );
    }
    for c in all_and(nc) {
        push(
            "vacancies",
            c,
            None,
            "roles offered that nobody held, mean per recorded week (summed over coalitions for all); undefined without role capacity",
        );
    }
    for c in all_and(nc) {
        push(
            "turned_away_per_year",
            c,
            None,
            "applicants turned away for want of a vacant role, per recorded year (summed over coalitions for all)",
        );
    }
    for c in all_and(nc) {
        push(
            "years_at_capacity",
            c,
            None,
            "share of recorded programme-years in which the roles were on average at least 95% filled; undefined without role capacity",
        );
    }
    push(
        "members_trend",
        None,
        None,
        "steady-state check: slope of total members over the last 5 recorded years, per year, as a share of their mean (near 0 = stationary)",
    );
    keys
}

/// One row of `series.csv`.
#[derive(Debug, Clone)]
pub struct SeriesRow {
    /// Tick.
    pub tick: u32,
    /// Which series.
    pub key: SeriesKey,
    /// Statistics across replications.
    pub stats: Summary,
}

/// One row of `retention.csv`.
#[derive(Debug, Clone)]
pub struct RetentionRow {
    /// `km` or `annual_retention`.
    pub curve: &'static str,
    /// Group index or all.
    pub group: Option<usize>,
    /// Tenure (km) or time since start (annual_retention), in ticks.
    pub tick: u32,
    /// Pooled KM estimate, or mean across replications.
    pub estimate: f64,
    /// Lower 95% bound (Greenwood for km; of the mean for annual retention).
    pub ci_low: f64,
    /// Upper 95% bound.
    pub ci_high: f64,
    /// Monte Carlo percentiles across replications.
    pub band: Summary,
    /// Pooled spells at risk (km) or replications (annual retention).
    pub n: u64,
}

/// One row of `summary.csv`.
#[derive(Debug, Clone)]
pub struct SummaryRow {
    /// Which quantity.
    pub key: SummaryKey,
    /// Statistics across replications.
    pub stats: Summary,
}

/// Everything a run reports, reduced across replications.
#[derive(Debug, Clone)]
pub struct Results {
    /// Labels and layout.
    pub catalogue: Catalogue,
    /// Per-tick series.
    pub series: Vec<SeriesRow>,
    /// Survival and retention curves.
    pub retention: Vec<RetentionRow>,
    /// Headline figures.
    pub summary: Vec<SummaryRow>,
    /// Lorenz curve of hours: (share of participants, statistics of the share of hours).
    pub lorenz: Vec<(f64, Summary)>,
    /// Warnings about what the results cannot say (filled by [`diagnostics::diagnose`]).
    pub diagnostics: Vec<diagnostics::Diagnostic>,
    /// What became of each coalition across the replications (filled with the diagnostics).
    pub programmes: Vec<diagnostics::ProgrammeFate>,
    /// Every replication's headline values, in replication order, each in [`summary_keys`]
    /// order (NaN where undefined): the raw values behind `summary.csv`.
    pub replications: Vec<Vec<f64>>,
    /// Every replication's series at each whole year of the recorded period
    /// ([`Catalogue::whole_years`]), in replication order, each row-major by year in
    /// [`Catalogue::series`] order (NaN where undefined): the raw values behind paired
    /// differences over time (`coprosim compare`).
    pub yearly: Vec<Vec<f32>>,
    /// Agent-level detail of the replications a [`detail::DetailRequest`] covered, in
    /// replication order (empty unless asked for).
    pub details: Vec<detail::Detail>,
}

/// Reduce replications (given in replication order) to cross-replication statistics. Cells
/// are independent and each is reduced in replication order, so the result does not depend
/// on how many threads compute it.
pub fn aggregate(cat: Catalogue, records: &[ReplicationRecord]) -> Results {
    let width = cat.series.len();
    let ticks = cat.ticks as usize;
    let series: Vec<SeriesRow> = crate::par::map(0..ticks + 1, |t| {
        let cat = &cat;
        (0..width)
            .filter_map(move |s| {
                let mut v: Vec<f64> = records.iter().map(|r| r.series[t * width + s] as f64).collect();
                summarise(&mut v).map(|stats| SeriesRow { tick: cat.first_tick + t as u32, key: cat.series[s], stats })
            })
            .collect::<Vec<_>>()
    })
    .into_iter()
    .flatten()
    .collect();

    let mut retention = Vec::new();
    let groups = std::iter::once(None).chain((0..cat.groups.len()).map(Some));
    for (k, group) in groups.clone().enumerate() {
        let mut pooled = SpellHistogram::new(ticks);
        for r in records {
            pooled.merge(&r.spells[k]);
        }
        let pooled_km = kaplan_meier(&pooled);
        let per_rep: Vec<Vec<f64>> =
            records.iter().map(|r| kaplan_meier(&r.spells[k]).iter().map(|p| p.survival).collect()).collect();
        for (d, p) in pooled_km.iter().enumerate() {
            if p.at_risk == 0 {
                break;
            }
            let mut v: Vec<f64> = per_rep.iter().map(|c| c[d]).collect();
            let Some(band) = summarise(&mut v) else {
                continue;
            };
            let (ci_low, ci_high) = p.ci95();
            retention.push(RetentionRow {
                curve: "km",
                group,
                tick: d as u32,
                estimate: p.survival,
                ci_low,
                ci_high,
                band,
                n: p.at_risk,
            });
        }
    }
    let retention_index: Vec<usize> = groups
        .map(|g| cat.series.iter().position(|k| k.metric == Metric::AnnualRetention && k.group == g).unwrap())
        .collect();
    for (k, &s) in retention_index.iter().enumerate() {
        let group = if k == 0 { None } else { Some(k - 1) };
        for t in cat.ticks_per_year as usize..=ticks {
            let mut v: Vec<f64> = records.iter().map(|r| r.series[t * width + s] as f64).collect();
            let Some(band) = summarise(&mut v) else {
                continue;
            };
            let (lo, hi) = band.ci95(Domain::Share);
            retention.push(RetentionRow {
                curve: "annual_retention",
                group,
                tick: cat.first_tick + t as u32,
                estimate: band.mean,
                ci_low: lo,
                ci_high: hi,
                band,
                n: band.n as u64,
            });
        }
    }

    let summary = summary_keys(&cat)
        .into_iter()
        .enumerate()
        .filter_map(|(i, key)| {
            let mut v: Vec<f64> = records.iter().map(|r| r.summary[i]).collect();
            summarise(&mut v).map(|stats| SummaryRow { key, stats })
        })
        .collect();
    let lorenz = (0..=LORENZ_POINTS)
        .filter_map(|i| {
            let mut v: Vec<f64> = records.iter().map(|r| r.lorenz[i]).collect();
            summarise(&mut v).map(|s| (i as f64 / LORENZ_POINTS as f64, s))
        })
        .collect();
    let replications = records.iter().map(|r| r.summary.clone()).collect();
    let years = cat.whole_years();
    let yearly = records
        .iter()
        .map(|r| years.iter().flat_map(|&(_, t)| r.series[t * width..(t + 1) * width].iter().copied()).collect())
        .collect();
    Results {
        catalogue: cat,
        series,
        retention,
        summary,
        lorenz,
        diagnostics: Vec::new(),
        programmes: Vec::new(),
        replications,
        yearly,
        details: Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_memory_estimate_counts_every_series() {
        for (coalitions, groups) in [(1, 1), (3, 2), (10, 1), (2, 6)] {
            let mut s = Scenario::baseline();
            let (c0, g0) = (s.coalitions[0].clone(), s.population.groups[0].clone());
            s.coalitions =
                (0..coalitions).map(|c| crate::scenario::Coalition { name: format!("c{c}"), ..c0.clone() }).collect();
            s.population.groups = (0..groups)
                .map(|g| crate::scenario::Group { name: format!("g{g}"), share: 1.0 / groups as f64, ..g0.clone() })
                .collect();
            let cat = Catalogue::new(&s);
            assert_eq!(
                s.record_bytes(),
                (cat.ticks as u64 + 1) * cat.series.len() as u64 * 4,
                "{coalitions} x {groups}"
            );
        }
    }

    #[test]
    fn trend_is_relative_growth_per_year() {
        let flat = vec![100.0; 53];
        assert_eq!(super::trend_share_per_year(&flat, 52.0), 0.0);
        // From 95 to 105 over one year around a mean of 100: +10% a year.
        let rising: Vec<f64> = (0..=52).map(|t| 95.0 + 10.0 * t as f64 / 52.0).collect();
        assert!((super::trend_share_per_year(&rising, 52.0) - 0.1).abs() < 1e-12);
        assert!(super::trend_share_per_year(&[0.0, 0.0], 52.0).is_nan());
        assert!(super::trend_share_per_year(&[1.0], 52.0).is_nan());
    }

    #[test]
    fn a_coalition_without_members_is_not_surviving() {
        let s = crate::scenario::Scenario::baseline();
        let mut c = crate::model::Coalition::found(&s, &s.coalitions[0]);
        c.active = true;
        c.members = 0;
        assert!(!super::surviving(&c));
        c.members = 3;
        assert!(super::surviving(&c));
        c.active = false;
        assert!(!super::surviving(&c));
    }
}
