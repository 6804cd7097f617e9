//! The scenario file's tables and parameters. See `docs/PARAMETERS.md` (generated from
//! this file by `coprosim params --markdown`) and `docs/ODD.md` for what each one does.

use super::params::{choice, section};

section! {
    /// A complete scenario: the top level of a scenario file.
    pub struct Scenario {
        /// Required. Short name, used for the default output directory (`output/<name>/`).
        name: String = String::new();
        /// One or two sentences saying what the scenario represents.
        description: String = String::new();
        /// Horizon, replications and seed.
        simulation: Simulation = Simulation::default();
        /// The community: groups and their social network.
        population: Population = Population::default();
        /// How agents weigh incentives and decide to join, stay or exit.
        behaviour: Behaviour = Behaviour::default();
        /// Rates shared by all coalitions' organisational dynamics.
        organisation: Organisation = Organisation::default();
        /// Funders' performance regime and funding shocks.
        policy: Policy = Policy::default();
        /// The co-production programmes (at least one).
        coalitions: Vec<Coalition> = Vec::new();
    }
}

section! {
    /// Horizon, replications and seed.
    pub struct Simulation {
        /// Length of the recorded horizon in years, after the burn-in (ignored when `ticks` is set).
        years: u32 = 10, unit "years", range(1, 1000);
        /// Years the programmes run from founding before recording starts, so results describe mature programmes; every year in a scenario counts from founding.
        burn_in_years: u32 = 0, unit "years", range(0, 1000);
        /// Ticks per year: 52 makes a tick one week.
        ticks_per_year: u32 = 52, unit "ticks per year", range(1, 365);
        /// Length of the recorded horizon in ticks, after the burn-in; overrides `years` when set.
        ticks: Option<u32> = None, unit "ticks", range(1, 1_000_000);
        /// Monte Carlo replications.
        replications: u32 = 100, range(1, 1_000_000);
        /// Master seed; replication r draws from ChaCha8 stream r of this seed.
        seed: u64 = 1;
    }
}

impl Population {
    /// The share of the population the areas' mixes give `group`: the sum over areas of the
    /// area's share times the group's share of it (0 without areas).
    pub fn areas_share_of(&self, group: &str) -> f64 {
        self.areas.iter().map(|a| a.share * a.mix.get(group).copied().unwrap_or(0.0)).sum()
    }
}

section! {
    /// The community: groups and their social network.
    pub struct Population {
        /// Number of agents (community members).
        size: u32 = 2000, unit "agents", range(2, 50_000_000);
        /// The homophilous small-world network of social ties.
        network: Network = Network::default();
        /// Population groups (at least one); shares must sum to 1.
        groups: Vec<Group> = Vec::new();
        /// Areas (neighbourhoods), each with its own mix of groups; none: one town where groups mix by their shares.
        areas: Vec<Area> = Vec::new();
        /// Share of residents to whom each purpose is a cause of their own (drawn per resident and purpose); a programme's purposive payoff reaches only them.
        appeal: Appeal = Appeal::default();
    }
}

section! {
    /// Share of residents to whom each purpose is a cause of their own (docs/ODD.md, "Purposes"): a programme's purposive payoff reaches only them. The defaults are assumptions, equal across purposes; `general` reaches everyone (the second version).
    pub struct Appeal {
        /// A programme with no particular purpose: everyone counts its goal as theirs.
        general: f64 = 1.0, unit "share", range(0, 1);
        /// Care and support (food banks, befriending, home care).
        social_care: f64 = 0.3, unit "share", range(0, 1);
        /// Health (peer support, recovery, hospital volunteering).
        health: f64 = 0.3, unit "share", range(0, 1);
        /// Children and young people (clubs, mentoring, schools).
        youth: f64 = 0.3, unit "share", range(0, 1);
        /// Faith and congregations.
        faith: f64 = 0.3, unit "share", range(0, 1);
        /// Sport and recreation.
        sport: f64 = 0.3, unit "share", range(0, 1);
        /// Environment and animals.
        environment: f64 = 0.3, unit "share", range(0, 1);
        /// Advocacy, civic and political participation.
        advocacy: f64 = 0.3, unit "share", range(0, 1);
        /// Community amenities and development (village shops, community centres, housing).
        community: f64 = 0.3, unit "share", range(0, 1);
    }
}

section! {
    /// The homophilous small-world network of social ties.
    pub struct Network {
        /// Mean number of ties per agent (rounded down to an even number).
        mean_degree: u32 = 8, unit "ties", range(0, 1000);
        /// Probability that a ring tie is rewired to a random partner (small-world shortcut).
        rewiring: f64 = 0.1, unit "probability", range(0, 1);
        /// Probability that a rewired tie goes to an agent of the same group.
        homophily: f64 = 0.8, unit "probability", range(0, 1);
        /// Probability that a rewired tie stays within the agent's area (with areas only): ties are denser within an area.
        locality: f64 = 0.8, unit "probability", range(0, 1);
    }
}

section! {
    /// An area (neighbourhood) of the town, with its own mix of groups.
    pub struct Area {
        /// Required. Area name, unique within the scenario and distinct from the group names.
        name: String = String::new();
        /// Share of the population living in this area; the areas' shares must sum to 1.
        share: f64 = 0.0, unit "share", above(0, 1);
        /// Share of the area's residents in each group, by group name (a group left out has none here); must sum to 1, and the areas together must give each group its `share`.
        mix: std::collections::BTreeMap<String, f64> = std::collections::BTreeMap::new();
    }
}

section! {
    /// A population group, e.g. advantaged or disadvantaged residents.
    pub struct Group {
        /// Required. Group name, unique within the scenario.
        name: String = String::new();
        /// Share of the population in this group.
        share: f64 = 0.0, unit "share", above(0, 1);
        /// Dirichlet concentrations of the incentive weights (material, solidary, purposive); the default is the baseline's.
        incentives: Incentives = Incentives::default();
        /// Weekly cost of participating (economic barriers), in payoff units; the default is the baseline town's average.
        time_cost: f64 = 0.06, unit "payoff per week", range(0, 10);
        /// Share of the group with lived experience of the problem the programmes address.
        lived_experience: f64 = 0.0, unit "share", range(0, 1);
        /// Trust in government; distrust lowers joining publicly funded coalitions.
        trust_in_government: f64 = 0.5, unit "share", range(0, 1);
        /// Median hours a member of this group gives per week.
        hours_per_week: f64 = 2.0, unit "hours per week", above(0, 168);
        /// Relative likelihood that a coalition's founding members come from this group.
        founder_weight: f64 = 1.0, unit "relative weight", range(0, 1e6);
        /// Share of the group holding the credentials (degrees, certificates) that credentialed roles require.
        credentials: f64 = 0.2, unit "share", range(0, 1);
        /// Share of the group's residents with time to spare for a programme at any moment; the rest are taken up by work, care and other commitments (redrawn at each life event).
        spare_time: f64 = 0.4, unit "share", range(0, 1);
    }
}

section! {
    /// Dirichlet concentration parameters of a group's incentive weights.
    pub struct Incentives {
        /// Concentration for the material weight (money, tangible benefits).
        material: f64 = 1.5, above(0, 1e6);
        /// Concentration for the solidary weight (fellowship, social ties).
        solidary: f64 = 2.0, above(0, 1e6);
        /// Concentration for the purposive weight (the cause, the mission).
        purposive: f64 = 1.5, above(0, 1e6);
    }
}

section! {
    /// How agents weigh incentives and decide to join, stay or exit.
    pub struct Behaviour {
        /// Weeks over which satisfaction is smoothed (exponential memory).
        satisfaction_memory_weeks: f64 = 8.0, unit "weeks", range(1, 5200);
        /// Mean aspiration level: the payoff below which members grow dissatisfied (default: calibrated, docs/CALIBRATION.md).
        aspiration_mean: f64 = -0.19, unit "payoff", range(-10, 10);
        /// Standard deviation of aspiration across agents.
        aspiration_sd: f64 = 0.1, unit "payoff", range(0, 10);
        /// Exit probability per year whatever the satisfaction and the life events of `life_event_rate` (the second version's life-event exits; 0 in the third, where life events take members' time).
        base_exit: f64 = 0.0, unit "probability per year", range(0, 1);
        /// Extra exit probability per week of a fully dissatisfied member.
        dissatisfied_exit: f64 = 0.05, unit "probability per week", range(0, 1);
        /// Slope of the logistic exit response to the aspiration gap.
        exit_sensitivity: f64 = 10.0, unit "per payoff unit", range(0, 1000);
        /// Multiplier on the exit hazard at the start of a spell (newcomers leave fastest).
        newcomer_exit_multiplier: f64 = 1.0, unit "factor", range(1, 100);
        /// Weeks over which the newcomer multiplier decays (e-folding time).
        newcomer_weeks: f64 = 13.0, unit "weeks", above(0, 5200);
        /// Weekly probability that one member tie tells an outsider about its coalition.
        word_of_mouth: f64 = 0.05, unit "probability per tie per week", range(0, 1);
        /// Probability an exposed outsider joins when the expected payoff far exceeds aspiration (default: calibrated).
        join_max: f64 = 0.35, unit "probability", range(0, 1);
        /// Slope of the logistic join response to expected payoff minus aspiration.
        join_sensitivity: f64 = 10.0, unit "per payoff unit", range(0, 1000);
        /// Weight of perceived fairness (centred at 0.5) in every member's payoff: the second version's assumed path from governance to retention (0, the default since the third version: fairness acts through `organisation.allocation_by_standing`).
        fairness_weight: f64 = 0.0, unit "payoff", range(0, 10);
        /// Stipend per member that fully satisfies material motives.
        stipend_reference: f64 = 1000.0, unit "currency per year", above(0, 1e12);
        /// Log-scale standard deviation of individual weekly hours (effort concentration; default: calibrated).
        hours_dispersion: f64 = 0.89, unit "log hours", range(0, 5);
        /// Purposive payoff lost per unit of mission drift since the member joined.
        drift_sensitivity: f64 = 1.0, unit "factor", range(0, 10);
        /// How much professionalisation weakens solidary payoff (formalisation).
        solidary_formalisation: f64 = 0.5, unit "share", range(0, 1);
        /// Weeks after exiting before an agent can be recruited again.
        rejoin_delay_weeks: f64 = 52.0, unit "weeks", range(0, 5200);
        /// Weight of the first version's material payoff of roles open to people with lived experience, `1 - P` (0 removes it).
        lived_experience_role_payoff: f64 = 0.0, unit "factor", range(0, 10);
        /// Standard deviation of an outsider's error in the payoff it expects from a coalition; members learn the real payoff.
        expectation_noise: f64 = 0.2, unit "payoff", range(0, 10);
        /// Weeks over which a newcomer still measures what it finds against what it expected (e-folding time); a shortfall counts as dissatisfaction.
        disappointment_weeks: f64 = 26.0, unit "weeks", above(0, 5200);
        /// Whether outsiders' expectation errors steer who joins (false: they join on the true payoff and start with the same erroneous expectation; a knock-out of the selection on errors).
        expectations_steer_joining: bool = true;
        /// Whether a newcomer starts from the payoff it expected and learns the real one (false: it knows the real one from its first week, a matched control: the same joiners, no expectation to correct).
        expectations_learnt: bool = true;
        /// Life events (a new job, a child, illness, a move) per resident per year: each redraws whether the resident has time to spare (its group's `spare_time`); a member left without time leaves (default: calibrated).
        life_event_rate: f64 = 0.57, unit "per year", range(0, 52);
        /// The cost of starting (induction, training, rearranging one's week), in payoff units: an outsider joins only if the payoff it expects covers its aspiration and this; members have paid it (default: calibrated).
        start_cost: f64 = 0.25, unit "payoff", range(0, 10);
        /// Weeks before an outsider who considered a programme and did not join (or was turned away) considers one again.
        reconsider_weeks: f64 = 52.0, unit "weeks", range(0, 5200);
        /// Friends a member makes among fellow members over a long spell; they add to its ties in the programme, and so to its solidary payoff (0: none).
        friends_made: f64 = 3.0, unit "ties", range(0, 1000);
        /// Weeks over which a member with a full role makes those friends (e-folding time).
        bonding_weeks: f64 = 26.0, unit "weeks", above(0, 5200);
        /// How far friendships inside a programme form only within one's own group: at 1 a member bonds only in proportion to fellow members of its group, at 0 with anyone.
        bonding_homophily: f64 = 0.3, unit "share", range(0, 1);
        /// Standard deviation of how well a programme's role suits a newcomer: a payoff it cannot know from outside and learns as a member (default: calibrated).
        role_fit_sd: f64 = 0.62, unit "payoff", range(0, 10);
    }
}

section! {
    /// Rates shared by all coalitions' organisational dynamics.
    pub struct Organisation {
        /// Rate at which professionalisation approaches its funders' pressure.
        professionalisation_rate: f64 = 0.5, unit "per year", range(0, 52);
        /// Relaxation speed when pressure falls, as a fraction of the rate above.
        professionalisation_relax: f64 = 0.25, unit "fraction", range(0, 1);
        /// How much full professionalisation lowers fairness (a_P).
        fairness_professional_penalty: f64 = 0.5, unit "share", range(0, 1);
        /// How much full allocation conflict lowers fairness (a_C).
        fairness_conflict_penalty: f64 = 0.5, unit "share", range(0, 1);
        /// Fairness added by full-intensity outreach.
        fairness_outreach_gain: f64 = 0.2, unit "share", range(0, 1);
        /// How far a programme's benefits (what a role brings: its tangible rewards and its part in the work that counts) go to its established members rather than in equal shares when governance is not fair: a member's share of a full role's benefits is `1 + κ (1 − F) (standing / mean standing − 1)`, standing rising with tenure (0: equal shares whatever the governance).
        allocation_by_standing: f64 = 1.0, unit "share", range(0, 1);
        /// Weeks of membership over which a member becomes established (standing `1 − exp(−tenure / this)`).
        standing_weeks: f64 = 52.0, unit "weeks", above(0, 5200);
        /// Weeks for perceived fairness to catch up with governance (exponential lag).
        fairness_lag_weeks: f64 = 13.0, unit "weeks", range(1, 5200);
        /// Half-life of allocation conflict set off by new money.
        conflict_half_life_weeks: f64 = 26.0, unit "weeks", above(0, 5200);
        /// Rate at which the mission drifts towards the public funder's priorities.
        mission_drift_rate: f64 = 0.3, unit "per year", range(0, 52);
        /// How far the public funder's priorities match the founding mission.
        funder_alignment: f64 = 0.5, unit "share", range(0, 1);
        /// Rate at which goal attainment re-engages leaders.
        leadership_renewal: f64 = 0.5, unit "per year", range(0, 52);
        /// Share of output a coalition still produces when its leaders have disengaged.
        decision_floor: f64 = 0.3, unit "share", range(0, 1);
        /// Volunteers one paid staff member can train and mentor.
        volunteers_per_staff: f64 = 20.0, unit "volunteers per FTE", above(0, 1e6);
        /// Extra productivity of a fully mentored volunteer.
        mentoring_gain: f64 = 0.5, unit "share", range(0, 10);
        /// Output of one full-time staff member.
        staff_hours_per_week: f64 = 35.0, unit "hours per week", range(0, 168);
        /// Weeks over which goal attainment is smoothed.
        goal_memory_weeks: f64 = 8.0, unit "weeks", range(1, 5200);
        /// Weekly probability that full-intensity outreach reaches a given outsider.
        outreach_reach: f64 = 0.004, unit "probability per week", range(0, 1);
        /// Share of its reach a programme's outreach has among residents of other areas than its own.
        outreach_beyond_area: f64 = 0.25, unit "share", range(0, 1);
        /// Diminishing returns of outreach effort: reach grows as `(1 - exp(-k e)) / (1 - exp(-k))` of effort e (0: in proportion).
        outreach_saturation: f64 = 0.0, unit "k", range(0, 100);
        /// Weeks from founding during which a coalition cannot dissolve.
        startup_weeks: f64 = 26.0, unit "weeks", range(0, 5200);
        /// Consecutive weeks below minimum size or out of money before dissolution.
        dissolution_grace_weeks: f64 = 13.0, unit "weeks", range(0, 5200);
        /// Coalitions have a limited number of volunteer roles: they admit members only into vacant roles, and members beyond the roles find less to do.
        role_capacity: bool = true;
        /// Roles the volunteer leaders can coordinate without paid staff, at full leadership engagement.
        self_organised_roles: f64 = 20.0, unit "roles", range(0, 1e9);
        /// Weekly output one role carries: a goal of `goal_hours` needs `goal_hours / role_hours` roles.
        role_hours: f64 = 2.5, unit "output hours per week", above(0, 168);
        /// Under the performance regime a share P of the roles require credentials, and only credentialed agents can fill them.
        credentialed_roles: bool = true;
    }
}

section! {
    /// Funders' performance regime and funding shocks.
    pub struct Policy {
        /// How hard public funders push measurement and credentialed staffing.
        performance_regime: f64 = 0.5, unit "share", range(0, 1);
        /// Scheduled permanent cuts (e.g. austerity from year y).
        shocks: Vec<Shock> = Vec::new();
        /// Stochastic temporary shocks.
        random_shocks: RandomShocks = RandomShocks::default();
        /// Changes to parameters during the run, e.g. a goal raised or outreach started in a given year.
        changes: Vec<Change> = Vec::new();
    }
}

section! {
    /// A change to one scenario parameter during the run.
    pub struct Change {
        /// Year (from founding) at which the new value takes effect.
        year: f64 = 0.0, unit "years", range(0, 1000);
        /// Required. Key path of the parameter, as sweeps use them; coalitions and groups can be named, e.g. `coalitions.food_bank.goal_hours`, and `coalitions.*.` changes every coalition (in `area`, if set).
        key: String = String::new();
        /// With a `coalitions.*.` key: change only the programmes located in this area.
        area: String = String::new();
        /// Required. The new value: a number, a string (e.g. a mode) or a boolean.
        value: Setting = Setting::Number(f64::NAN);
    }
}

/// A parameter value set by a [`Change`].
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(untagged)]
pub enum Setting {
    /// A number.
    Number(f64),
    /// A boolean.
    Flag(bool),
    /// A string, such as a coproduction role.
    Text(String),
}

impl Setting {
    /// The value as TOML.
    pub fn to_toml(&self) -> toml::Value {
        match self {
            Setting::Number(x) => toml::Value::Float(*x),
            Setting::Flag(b) => toml::Value::Boolean(*b),
            Setting::Text(t) => toml::Value::String(t.clone()),
        }
    }
}

impl super::params::Describe for Setting {
    const TYPE_NAME: &'static str = "number, string or boolean";
}

impl super::params::Check for Setting {}

choice! {
    /// A funding stream a shock can hit.
    pub enum Stream {
        /// Member donations.
        Donations = "donations",
        /// Philanthropic grants.
        Grants = "grants",
        /// The government contract (public money; "public" is another name for it).
        Contract = "contract" | "public",
        /// Earned income.
        Earned = "earned",
        /// Every stream.
        All = "all",
    }
}

section! {
    /// A scheduled permanent cut to a funding stream.
    pub struct Shock {
        /// Year (from founding, like every year in a scenario) at which the cut takes effect.
        year: f64 = 0.0, unit "years", range(0, 1000);
        /// Stream cut.
        stream: Stream = Stream::Contract;
        /// Fraction of the stream removed (cuts compound).
        cut: f64 = 0.0, unit "share", range(0, 1);
        /// Coalition affected; empty (the default) for every coalition (in `area`, if set).
        coalition: String = String::new();
        /// Area whose programmes are affected; empty (the default) for every area.
        area: String = String::new();
    }
}

section! {
    /// Stochastic temporary cuts: Poisson arrivals with Beta-distributed size.
    pub struct RandomShocks {
        /// Expected shocks per coalition per year (0 disables them).
        rate_per_year: f64 = 0.0, unit "per year", range(0, 52);
        /// Stream hit by each shock.
        stream: Stream = Stream::All;
        /// Beta alpha of the fraction cut.
        cut_alpha: f64 = 2.0, above(0, 1e6);
        /// Beta beta of the fraction cut.
        cut_beta: f64 = 5.0, above(0, 1e6);
        /// How long each shock lasts.
        duration_weeks: f64 = 26.0, unit "weeks", above(0, 5200);
    }
}

choice! {
    /// What a programme is for (docs/ODD.md, "Purposes"): it sets the defaults of its incentive mix and of how many of its roles a performance regime can make credentialed, and whose cause it is (`population.appeal`).
    pub enum Purpose {
        /// No particular purpose (the second version: everyone's cause, every incentive in full, every role can be credentialed).
        General = "general",
        /// Care and support.
        SocialCare = "social_care",
        /// Health.
        Health = "health",
        /// Children and young people.
        Youth = "youth",
        /// Faith and congregations.
        Faith = "faith",
        /// Sport and recreation.
        Sport = "sport",
        /// Environment and animals.
        Environment = "environment",
        /// Advocacy, civic and political participation.
        Advocacy = "advocacy",
        /// Community amenities and development.
        Community = "community",
    }
}

impl Purpose {
    /// Every purpose, in the order residents' causes are drawn.
    pub const ALL: [Purpose; 9] = [
        Purpose::General,
        Purpose::SocialCare,
        Purpose::Health,
        Purpose::Youth,
        Purpose::Faith,
        Purpose::Sport,
        Purpose::Environment,
        Purpose::Advocacy,
        Purpose::Community,
    ];

    /// Position in [`Purpose::ALL`].
    pub fn index(self) -> usize {
        Purpose::ALL.iter().position(|&p| p == self).expect("listed")
    }

    /// Its share of residents in `appeal`.
    pub fn appeal(self, appeal: &Appeal) -> f64 {
        match self {
            Purpose::General => appeal.general,
            Purpose::SocialCare => appeal.social_care,
            Purpose::Health => appeal.health,
            Purpose::Youth => appeal.youth,
            Purpose::Faith => appeal.faith,
            Purpose::Sport => appeal.sport,
            Purpose::Environment => appeal.environment,
            Purpose::Advocacy => appeal.advocacy,
            Purpose::Community => appeal.community,
        }
    }

    /// The incentive mix a programme of this purpose offers by default: how much of the
    /// material, solidary and purposive payoff its members get (docs/ODD.md, "Purposes", gives
    /// the reasons; assumptions ordered by the literature, not measured).
    pub fn mix(self) -> Mix {
        let (material, solidary, purposive) = match self {
            Purpose::General => (1.0, 1.0, 1.0),
            Purpose::SocialCare => (1.0, 0.8, 1.0),
            Purpose::Health => (1.0, 0.7, 1.0),
            Purpose::Youth => (1.0, 0.9, 1.0),
            Purpose::Faith => (1.0, 1.0, 1.0),
            Purpose::Sport => (1.0, 1.0, 0.6),
            Purpose::Environment => (1.0, 0.9, 1.0),
            Purpose::Advocacy => (1.0, 0.8, 1.0),
            Purpose::Community => (1.0, 1.0, 0.8),
        };
        Mix { material, solidary, purposive }
    }

    /// The share of a programme's roles a performance regime can make credentialed by
    /// default (clinical and safeguarding rules make health and care roles the most
    /// credentialed; assumptions, docs/ODD.md).
    pub fn credential_need(self) -> f64 {
        match self {
            Purpose::General | Purpose::Health => 1.0,
            Purpose::SocialCare => 0.8,
            Purpose::Youth => 0.6,
            Purpose::Sport => 0.4,
            Purpose::Advocacy | Purpose::Community => 0.3,
            Purpose::Environment | Purpose::Faith => 0.2,
        }
    }
}

/// How much of each incentive a programme offers its members: multipliers on the material,
/// solidary and purposive payoffs.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Mix {
    /// Multiplier on the material payoff (stipends, tangible benefits).
    pub material: f64,
    /// Multiplier on the solidary payoff (fellowship).
    pub solidary: f64,
    /// Multiplier on the purposive payoff (the cause).
    pub purposive: f64,
}

section! {
    /// How much of each incentive the programme offers its members, as multipliers on the material, solidary and purposive payoffs; each left out takes its purpose's value.
    pub struct MixSetting {
        /// Multiplier on the material payoff (stipends, tangible benefits); default: the purpose's.
        material: Option<f64> = None, unit "factor", range(0, 10);
        /// Multiplier on the solidary payoff (fellowship); default: the purpose's.
        solidary: Option<f64> = None, unit "factor", range(0, 10);
        /// Multiplier on the purposive payoff (the cause); default: the purpose's.
        purposive: Option<f64> = None, unit "factor", range(0, 10);
    }
}

impl Coalition {
    /// The incentive mix it offers: its purpose's, with what the scenario sets in its place.
    pub fn mix(&self) -> Mix {
        let default = self.purpose.mix();
        let set = &self.incentive_mix;
        Mix {
            material: set.material.unwrap_or(default.material),
            solidary: set.solidary.unwrap_or(default.solidary),
            purposive: set.purposive.unwrap_or(default.purposive),
        }
    }

    /// The share of its roles a performance regime can make credentialed.
    pub fn credential_need(&self) -> f64 {
        self.credential_need.unwrap_or(self.purpose.credential_need())
    }
}

choice! {
    /// Who does a task, per Bovaird's (2007) Table 1.
    pub enum Role {
        /// Professionals alone.
        Professional = "professional",
        /// Professionals with users and community.
        Shared = "shared" | "co",
        /// Users and community alone.
        Community = "community",
    }
}

impl Role {
    /// How open the task is to members (0.25 professional, 0.6 shared, 1 community).
    pub fn openness(self) -> f64 {
        match self {
            Role::Professional => 0.25,
            Role::Shared => 0.6,
            Role::Community => 1.0,
        }
    }
}

section! {
    /// A co-production programme.
    pub struct Coalition {
        /// Required. Coalition name, unique within the scenario.
        name: String = String::new();
        /// Founding members at tick 0, recruited through one founder's ties.
        founders: u32 = 10, unit "agents", range(1, 50_000_000);
        /// Minimum viable size; below it for the grace period the coalition dissolves.
        min_members: u32 = 3, unit "agents", range(0, 50_000_000);
        /// Budget reserve at founding.
        initial_budget: f64 = 10000.0, unit "currency", range(0, 1e15);
        /// Paid staff the coalition aims to employ.
        staff: f64 = 1.0, unit "FTE", range(0, 1e6);
        /// Cost of one full-time staff member.
        staff_cost: f64 = 30000.0, unit "currency per FTE-year", range(0, 1e12);
        /// Stipend or benefit per member (a material incentive).
        stipend: f64 = 0.0, unit "currency per member-year", range(0, 1e12);
        /// Weekly output that counts as fully reaching the goal.
        goal_hours: f64 = 100.0, unit "output hours per week", above(0, 1e12);
        /// Area the programme is located in (empty: the whole town); its outreach reaches that area's residents most.
        area: String = String::new();
        /// What the programme is for: sets the defaults of `incentive_mix` and `credential_need`, and whose cause it is (`population.appeal`).
        purpose: Purpose = Purpose::General;
        /// How much of each incentive the programme offers (default: its purpose's mix).
        incentive_mix: MixSetting = MixSetting::default();
        /// Share of its roles a performance regime can make credentialed (default: its purpose's).
        credential_need: Option<f64> = None, unit "share", range(0, 1);
        /// Coproduction mode (Bovaird 2007, Table 1).
        mode: Mode = Mode::default();
        /// Voice, outreach and delegation.
        governance: Governance = Governance::default();
        /// Funding streams.
        funding: Funding = Funding::default();
    }
}

section! {
    /// Coproduction mode: who plans and who delivers (Bovaird 2007, Table 1).
    pub struct Mode {
        /// Who plans: "professional", "shared" or "community".
        planning: Role = Role::Shared;
        /// Who delivers: "professional", "shared" or "community".
        delivery: Role = Role::Shared;
    }
}

section! {
    /// Voice, outreach and delegation.
    pub struct Governance {
        /// Voice rules: how much say members have in decisions.
        voice: f64 = 0.7, unit "share", range(0, 1);
        /// Outreach intensity (1 = full programme at `outreach_cost`).
        outreach: f64 = 0.0, unit "share", range(0, 1);
        /// Cost of full-intensity outreach.
        outreach_cost: f64 = 5000.0, unit "currency per year", range(0, 1e12);
        /// Share of members' time cost that full outreach offsets (childcare, transport).
        outreach_support: f64 = 0.5, unit "share", range(0, 1);
        /// Paid staff time (FTE) full-intensity outreach takes; with less staff, less outreach is done (0: money alone limits it).
        outreach_staff: f64 = 0.0, unit "FTE", range(0, 1e6);
        /// Groups the outreach is aimed at (empty: everyone); the same effort then reaches each of them more often.
        outreach_target: Vec<String> = Vec::new();
        /// Rate at which founding leaders delegate to representatives without authority.
        delegation_rate: f64 = 0.0, unit "per year", range(0, 52);
        /// Leadership engagement at founding.
        initial_leadership: f64 = 1.0, unit "share", range(0, 1);
    }
}

section! {
    /// Funding streams.
    pub struct Funding {
        /// Donations per member.
        donation_per_member: f64 = 20.0, unit "currency per member-year", range(0, 1e12);
        /// Earned income at full goal attainment (a social enterprise's trading).
        earned_income: f64 = 0.0, unit "currency per year", range(0, 1e15);
        /// Philanthropic grants with fixed terms and uncertain renewal.
        grants: Vec<Grant> = Vec::new();
        /// A government contract renewed on measured performance.
        contract: Option<Contract> = None;
    }
}

section! {
    /// A philanthropic grant.
    pub struct Grant {
        /// Amount per year while active.
        amount: f64 = 0.0, unit "currency per year", range(0, 1e15);
        /// Year the grant starts.
        start_year: f64 = 0.0, unit "years", range(0, 1000);
        /// Term of each award (Smith 2020: often two years).
        term_years: f64 = 2.0, unit "years", above(0, 1000);
        /// Probability the grant is renewed at the end of each term.
        renewal_probability: f64 = 0.5, unit "probability", range(0, 1);
    }
}

section! {
    /// A government contract renewed on measured performance.
    pub struct Contract {
        /// Amount per year while active.
        amount: f64 = 0.0, unit "currency per year", range(0, 1e15);
        /// Year the contract starts.
        start_year: f64 = 0.0, unit "years", range(0, 1000);
        /// Term of each award.
        term_years: f64 = 3.0, unit "years", above(0, 1000);
        /// Renewal probability at zero goal attainment.
        renewal_base: f64 = 0.3, unit "probability", range(0, 1);
        /// Renewal probability added at full goal attainment (capped at 1).
        renewal_performance: f64 = 0.6, unit "probability", range(0, 1);
    }
}
