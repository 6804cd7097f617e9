//! The outputs sweep and targets files name: `metric`, `metric/coalition/group`, optionally
//! `@YEAR` for a series metric at a year. This is the grammar only; where an output is read in
//! a replication's record is the observers' business (`observe::reading`).

/// An output a sweep records: a summary metric for a coalition and group, or a series metric
/// read at a year.
#[derive(Debug, Clone, PartialEq)]
pub struct OutputSpec {
    /// Metric name.
    pub metric: String,
    /// Coalition name or "all".
    pub coalition: String,
    /// Group name or "all".
    pub group: String,
    /// The year (from founding) at which a `series.csv` metric is read; None for a
    /// `summary.csv` metric. NaN when the text after `@` is not a number.
    pub year: Option<f64>,
}

impl OutputSpec {
    /// Parse `metric`, `metric/coalition` or `metric/coalition/group`, each optionally
    /// followed by `@YEAR` for a series metric at that year.
    pub fn parse(text: &str) -> OutputSpec {
        let (body, year) = match text.split_once('@') {
            Some((body, year)) => (body, Some(year.trim().parse().unwrap_or(f64::NAN))),
            None => (text, None),
        };
        let mut parts = body.split('/');
        let metric = parts.next().unwrap_or_default().to_string();
        let coalition = parts.next().unwrap_or("all").to_string();
        let group = parts.next().unwrap_or("all").to_string();
        OutputSpec { metric, coalition, group, year }
    }

    /// Human label: the metric in words, its coalition and group when not all, and the year,
    /// e.g. "final members (food_bank)" or "members (food_bank, disadvantaged) at year 45".
    pub fn human_label(&self) -> String {
        let mut s = match self.metric.as_str() {
            "top10_hours_share" => "top 10% hours share".to_string(),
            "top25_hours_share" => "top 25% hours share".to_string(),
            m => m.replace('_', " "),
        };
        let scope: Vec<&str> =
            [self.coalition.as_str(), self.group.as_str()].into_iter().filter(|x| *x != "all").collect();
        if !scope.is_empty() {
            s.push_str(&format!(" ({})", scope.join(", ")));
        }
        if let Some(y) = self.year {
            s.push_str(&format!(" at year {}", crate::text::num(y)));
        }
        s
    }

    /// Column-friendly name: `metric`, `metric[coalition/group]`, then `@year` for a series.
    pub fn label(&self) -> String {
        let mut s = self.metric.clone();
        if self.coalition != "all" || self.group != "all" {
            s.push_str(&format!("[{}/{}]", self.coalition, self.group));
        }
        if let Some(y) = self.year {
            s.push_str(&format!("@{y}"));
        }
        s
    }
}
