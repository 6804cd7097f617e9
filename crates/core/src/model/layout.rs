//! Where agents live in the arrays: contiguous by area, and by group within an area.
//!
//! A population without areas is one area whose cells are its groups, laid out exactly as the
//! first versions laid out groups, so that every draw that picks an agent of a group (rewired
//! ties, founders) reads the same numbers as before.

use crate::scenario::Scenario;
use crate::stream::ChaCha8Rng;
use rand::RngExt;
use std::ops::Range;

/// The agents of each (area, group) cell.
#[derive(Debug, Clone, PartialEq)]
pub struct Layout {
    /// Number of groups.
    pub groups: usize,
    /// Number of areas (1 when the scenario has none).
    pub areas: usize,
    /// Index range of each cell, at `area * groups + group`, cells in that order.
    pub cells: Vec<Range<u32>>,
}

impl Layout {
    /// Cell sizes from the areas' shares and mixes by largest remainder over every cell, so
    /// they sum to the population exactly; without areas, the groups' shares.
    pub fn new(s: &Scenario) -> Layout {
        let groups = &s.population.groups;
        let shares: Vec<f64> = if s.population.areas.is_empty() {
            groups.iter().map(|g| g.share).collect()
        } else {
            s.population
                .areas
                .iter()
                .flat_map(|a| groups.iter().map(move |g| a.share * a.mix.get(&g.name).copied().unwrap_or(0.0)))
                .collect()
        };
        let sizes = super::agents::group_sizes(s.population.size, &shares);
        let mut start = 0u32;
        let cells = sizes
            .iter()
            .map(|&k| {
                start += k;
                start - k..start
            })
            .collect();
        Layout { groups: groups.len(), areas: s.population.areas.len().max(1), cells }
    }

    /// Agents of `group` in `area`.
    pub fn cell(&self, area: usize, group: usize) -> Range<u32> {
        self.cells[area * self.groups + group].clone()
    }

    /// Agents of `area` (contiguous).
    pub fn area(&self, area: usize) -> Range<u32> {
        self.cells[area * self.groups].start..self.cells[(area + 1) * self.groups - 1].end
    }

    /// Number of agents in `group`, over every area.
    pub fn group_size(&self, group: usize) -> u32 {
        (0..self.areas).map(|a| self.cell(a, group).len() as u32).sum()
    }

    /// Number of agents in `area`.
    pub fn area_size(&self, area: usize) -> u32 {
        self.area(area).len() as u32
    }

    /// An agent of `group` drawn uniformly over every area: one draw. With one area this is
    /// the draw the first versions made over the group's range.
    pub fn draw_in_group(&self, group: usize, rng: &mut ChaCha8Rng) -> u32 {
        if self.areas == 1 {
            return rng.random_range(self.cell(0, group));
        }
        let mut k = rng.random_range(0..self.group_size(group));
        for a in 0..self.areas {
            let cell = self.cell(a, group);
            if k < cell.len() as u32 {
                return cell.start + k;
            }
            k -= cell.len() as u32;
        }
        unreachable!("k is below the group's size")
    }

    /// Per agent, its area.
    pub fn area_of_each(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.cells.last().map_or(0, |c| c.end as usize));
        for (k, cell) in self.cells.iter().enumerate() {
            out.extend(std::iter::repeat_n((k / self.groups) as u8, cell.len()));
        }
        out
    }

    /// Per cell, its size.
    pub fn sizes(&self) -> Vec<u32> {
        self.cells.iter().map(|c| c.len() as u32).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn town(areas: &str) -> Scenario {
        let text = format!(
            "name = \"t\"\n[population]\nsize = 1000\n[[population.groups]]\nname = \"rich\"\nshare = 0.65\n[[population.groups]]\nname = \"poor\"\nshare = 0.35\n{areas}[[coalitions]]\nname = \"c\"\n"
        );
        Scenario::parse(&text, "t").unwrap()
    }

    #[test]
    fn without_areas_cells_are_the_groups() {
        let l = Layout::new(&town(""));
        assert_eq!(l.cells, vec![0..650, 650..1000]);
        assert_eq!((l.areas, l.area(0)), (1, 0..1000));
    }

    #[test]
    fn areas_hold_their_mix_and_groups_are_found_across_them() {
        let areas = "[[population.areas]]\nname = \"estate\"\nshare = 0.25\nmix = { poor = 0.7, rich = 0.3 }\n[[population.areas]]\nname = \"town\"\nshare = 0.75\nmix = { poor = 0.23333333333333334, rich = 0.7666666666666667 }\n";
        let l = Layout::new(&town(areas));
        assert_eq!(l.sizes(), vec![75, 175, 575, 175]);
        assert_eq!(l.area(1), 250..1000);
        assert_eq!(l.group_size(1), 350);
        let areas_of = l.area_of_each();
        assert_eq!((areas_of[249], areas_of[250]), (0, 1));
        let mut rng = <ChaCha8Rng as rand::SeedableRng>::seed_from_u64(3);
        let mut seen = [0u32; 2];
        for _ in 0..2000 {
            let i = l.draw_in_group(1, &mut rng);
            assert!(l.cell(0, 1).contains(&i) || l.cell(1, 1).contains(&i));
            seen[usize::from(i >= 250)] += 1;
        }
        // Half the poor live on the estate (175 of 350).
        assert!((900..1100).contains(&seen[0]), "{seen:?}");
    }
}
