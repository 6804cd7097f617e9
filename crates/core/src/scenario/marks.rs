//! When a scenario's scheduled shocks and policy changes take effect, and what each does, in
//! a few words: the labelled rules on the time axis of a run's charts. Made here, once, so
//! that the command line's charts, the report and the explorer label them alike.

use super::{Scenario, Setting};

/// A scheduled shock or policy change: when it takes effect and what it does.
#[derive(Debug, Clone, PartialEq)]
pub struct PolicyMark {
    /// Years from founding.
    pub year: f64,
    /// What happens ("contract cut 60% (food_bank)", "goal hours (youth_clubhouse) = 400").
    pub label: String,
}

impl Scenario {
    /// Every scheduled shock, then every policy change after founding (a change at year 0 is
    /// a founding setting, not an event), in the order the file gives them.
    pub fn policy_marks(&self) -> Vec<PolicyMark> {
        let whose = |coalition: &str, area: &str| match (coalition, area) {
            ("", "") => String::new(),
            ("", area) => format!(" (area {area})"),
            (coalition, _) => format!(" ({coalition})"),
        };
        let shocks = self.policy.shocks.iter().map(|shock| PolicyMark {
            year: shock.year,
            label: format!(
                "{} cut {:.0}%{}",
                shock.stream.name(),
                100.0 * shock.cut,
                whose(&shock.coalition, &shock.area)
            ),
        });
        let changes = self.policy.changes.iter().filter(|c| c.year > 0.0).map(|change| {
            let value = match &change.value {
                Setting::Number(x) => x.to_string(),
                Setting::Flag(b) => b.to_string(),
                Setting::Text(t) => t.clone(),
            };
            PolicyMark { year: change.year, label: format!("{} = {value}", change_label(&change.key)) }
        });
        shocks.chain(changes).collect()
    }
}

/// A policy change's key in words, short enough for a mark: its last step, and the coalition
/// or group it names ("goal hours (food_bank)", "voice (coalitions[0])", "performance regime").
pub fn change_label(key: &str) -> String {
    let steps: Vec<&str> = key.split('.').collect();
    let name = steps.last().copied().unwrap_or(key).replace('_', " ");
    // `coalitions.NAME.…`, `population.groups.NAME.…`, or an indexed step, `coalitions[0].…`.
    let named = steps[..steps.len().saturating_sub(1)]
        .windows(2)
        .find(|w| w[0] == "coalitions" || w[0] == "groups" || w[0] == "areas")
        .map(|w| w[1].to_string())
        .or_else(|| steps.iter().find(|step| step.contains('[')).map(|step| step.to_string()));
    let whose = match named.as_deref() {
        None => String::new(),
        Some("*") => " (every coalition)".into(),
        Some(n) => format!(" ({n})"),
    };
    format!("{name}{whose}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shocks_and_changes_are_marked_where_they_take_effect() {
        let town =
            "name = \"t\"\n[[population.groups]]\nname = \"r\"\nshare = 1.0\n[[coalitions]]\nname = \"food_bank\"\n";
        let cut = format!(
            "{town}[[policy.shocks]]\nyear = 3\ncut = 0.6\ncoalition = \"food_bank\"\n\
             [[policy.changes]]\nyear = 0\nkey = \"policy.performance_regime\"\nvalue = 0.2\n\
             [[policy.changes]]\nyear = 5.5\nkey = \"policy.performance_regime\"\nvalue = 0.9\n"
        );
        let s = Scenario::parse(&cut, "").unwrap();
        assert_eq!(
            s.policy_marks(),
            [
                PolicyMark { year: 3.0, label: "contract cut 60% (food_bank)".into() },
                PolicyMark { year: 5.5, label: "performance regime = 0.9".into() },
            ],
            "a change at year 0 is a founding setting, not a mark"
        );
        assert_eq!(change_label("coalitions.food_bank.goal_hours"), "goal hours (food_bank)");
        assert_eq!(change_label("coalitions[0].governance.voice"), "voice (coalitions[0])");
        assert_eq!(change_label("population.groups.poor.spare_time"), "spare time (poor)");
        assert_eq!(change_label("coalitions.*.governance.outreach"), "outreach (every coalition)");
    }
}
