//! Social ties: a homophilous small-world network (Watts–Strogatz ring with rewiring),
//! stored as compressed sparse rows.

use crate::stream::ChaCha8Rng;
use rand::RngExt;

/// Undirected ties in compressed sparse row form.
#[derive(Debug, Clone, Default, serde::Serialize, serde::Deserialize)]
pub struct Network {
    offsets: Vec<u32>,
    ties: Vec<u32>,
}

impl Network {
    /// Build the network over agents laid out contiguously by area and group (`layout`).
    /// Each agent is tied to its `mean_degree / 2` successors on a ring; because areas and
    /// groups are contiguous on the ring, unrewired ties are within an area and a group. Each
    /// tie is rewired with probability `rewiring` to a random partner, drawn from the agent's
    /// own group with probability `homophily` (otherwise from anyone) and, with areas, from
    /// its own area with probability `locality` (otherwise from the whole town).
    pub fn small_world(
        group_of: &[u8],
        area_of: &[u8],
        layout: &super::layout::Layout,
        shape: &crate::scenario::Network,
        rng: &mut ChaCha8Rng,
    ) -> Network {
        let edges = Network::small_world_edges(group_of, area_of, layout, shape, rng);
        Network::from_edges(group_of.len(), &edges)
    }

    /// The ties of [`Network::small_world`] as a list of (agent, partner) pairs, before they
    /// are gathered per agent (two stages, so a caller can give up between them).
    pub fn small_world_edges(
        group_of: &[u8],
        area_of: &[u8],
        layout: &super::layout::Layout,
        shape: &crate::scenario::Network,
        rng: &mut ChaCha8Rng,
    ) -> Vec<(u32, u32)> {
        let n = group_of.len() as u32;
        let half = (shape.mean_degree / 2).min(n.saturating_sub(1) / 2);
        let mut edges: Vec<(u32, u32)> = Vec::with_capacity((n * half) as usize);
        for i in 0..n {
            for j in 1..=half {
                let mut partner = (i + j) % n;
                if rng.random::<f64>() < shape.rewiring {
                    let (g, a) = (group_of[i as usize] as usize, area_of[i as usize] as usize);
                    let same_group = rng.random::<f64>() < shape.homophily;
                    // One town draws nothing for locality: its ties are what they were.
                    let local = layout.areas == 1 || rng.random::<f64>() < shape.locality;
                    let (size, across_areas) = match (same_group, local) {
                        (true, true) => (layout.cell(a, g).len(), false),
                        (true, false) => (layout.group_size(g) as usize, true),
                        (false, true) => (layout.area(a).len(), false),
                        (false, false) => (n as usize, false),
                    };
                    if size > 1 {
                        loop {
                            partner = match (same_group, local, across_areas) {
                                (true, true, _) => rng.random_range(layout.cell(a, g)),
                                (true, false, _) => layout.draw_in_group(g, rng),
                                (false, true, _) => rng.random_range(layout.area(a)),
                                (false, false, _) => rng.random_range(0..n),
                            };
                            if partner != i {
                                break;
                            }
                        }
                    }
                }
                if partner != i {
                    edges.push((i, partner));
                }
            }
        }
        edges
    }

    /// Build from undirected edges; duplicate ties collapse into one.
    pub fn from_edges(n: usize, edges: &[(u32, u32)]) -> Network {
        Network::from_edges_unless(n, edges, &|| false).expect("never abandoned")
    }

    /// [`Network::from_edges`], abandoned (None) when `abandon` answers true. It is asked
    /// every four million ties while they are gathered and every million agents while they
    /// are sorted, so a caller can give up on a world of millions of agents at once.
    pub fn from_edges_unless(n: usize, edges: &[(u32, u32)], abandon: &dyn Fn() -> bool) -> Option<Network> {
        // Edges are visited in chunks so that `abandon` is asked every few million.
        const CHUNK: usize = 1 << 22;
        let mut degree = vec![0u32; n];
        for chunk in edges.chunks(CHUNK) {
            if abandon() {
                return None;
            }
            for &(a, b) in chunk {
                degree[a as usize] += 1;
                degree[b as usize] += 1;
            }
        }
        let mut offsets = Vec::with_capacity(n + 1);
        offsets.push(0u32);
        for d in &degree {
            offsets.push(offsets.last().unwrap() + d);
        }
        let mut fill = offsets.clone();
        let mut ties = vec![0u32; *offsets.last().unwrap() as usize];
        for chunk in edges.chunks(CHUNK) {
            if abandon() {
                return None;
            }
            for &(a, b) in chunk {
                ties[fill[a as usize] as usize] = b;
                fill[a as usize] += 1;
                ties[fill[b as usize] as usize] = a;
                fill[b as usize] += 1;
            }
        }
        // Sort and deduplicate each row, compacting in place.
        let mut write = 0usize;
        let mut new_offsets = Vec::with_capacity(n + 1);
        new_offsets.push(0u32);
        for i in 0..n {
            if i % (1 << 20) == 0 && i > 0 && abandon() {
                return None;
            }
            // Sort the row in place, then compact it without duplicates (the write cursor
            // never passes the row's start, so nothing unread is overwritten).
            let (s, e) = (offsets[i] as usize, offsets[i + 1] as usize);
            ties[s..e].sort_unstable();
            for k in s..e {
                if k == s || ties[k] != ties[k - 1] {
                    ties[write] = ties[k];
                    write += 1;
                }
            }
            new_offsets.push(write as u32);
        }
        ties.truncate(write);
        Some(Network { offsets: new_offsets, ties })
    }

    /// The agents tied to `i`.
    #[inline]
    pub fn ties(&self, i: usize) -> &[u32] {
        &self.ties[self.offsets[i] as usize..self.offsets[i + 1] as usize]
    }

    /// Number of agents.
    pub fn len(&self) -> usize {
        self.offsets.len().saturating_sub(1)
    }

    /// Whether there are no agents.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Whether ties read back from a saved state are well formed for `n` agents: offsets
    /// that rise from 0 to the number of ties, and every tie an agent.
    pub fn check_saved(&self, n: usize) -> Result<(), String> {
        let rising = self.offsets.first() == Some(&0) && self.offsets.windows(2).all(|w| w[0] <= w[1]);
        if self.offsets.len() != n + 1 || !rising || self.offsets[n] as usize != self.ties.len() {
            return Err("its ties are malformed".into());
        }
        if self.ties.iter().any(|&j| j as usize >= n) {
            return Err("a tie names an agent it does not have".into());
        }
        Ok(())
    }

    /// Largest degree.
    pub fn max_degree(&self) -> usize {
        self.offsets.windows(2).map(|w| (w[1] - w[0]) as usize).max().unwrap_or(0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    use crate::model::layout::Layout;

    fn shape(mean_degree: u32, rewiring: f64, homophily: f64) -> crate::scenario::Network {
        crate::scenario::Network { mean_degree, rewiring, homophily, locality: 0.8 }
    }

    #[test]
    fn locality_keeps_rewired_ties_in_their_area() {
        // Two areas of one group: rewired ties stay home with probability `locality`.
        let groups = vec![0u8; 1000];
        let mut areas = vec![0u8; 500];
        areas.extend(vec![1u8; 500]);
        let layout = Layout { groups: 1, areas: 2, cells: vec![0..500, 500..1000] };
        let cross = |locality: f64| {
            let mut rng = ChaCha8Rng::seed_from_u64(4);
            let s = crate::scenario::Network { locality, ..shape(8, 1.0, 1.0) };
            let net = Network::small_world(&groups, &areas, &layout, &s, &mut rng);
            (0..1000).map(|i| net.ties(i).iter().filter(|&&j| areas[j as usize] != areas[i]).count()).sum::<usize>()
        };
        assert_eq!(cross(1.0), 0);
        let open = cross(0.0);
        assert!(open > 2000, "ties drawn anywhere cross areas about half the time: {open}");
        assert!(cross(0.8) < open / 3);
    }

    #[test]
    #[allow(clippy::single_range_in_vec_init)] // one group spanning every agent
    fn ring_without_rewiring_is_regular_and_symmetric() {
        let groups = vec![0u8; 20];
        let mut rng = ChaCha8Rng::seed_from_u64(1);
        let layout = Layout { groups: 1, areas: 1, cells: vec![0..20] };
        let net = Network::small_world(&groups, &[0; 20], &layout, &shape(4, 0.0, 1.0), &mut rng);
        for i in 0..20 {
            assert_eq!(net.ties(i).len(), 4);
            for &j in net.ties(i) {
                assert!(net.ties(j as usize).contains(&(i as u32)));
            }
        }
    }

    #[test]
    fn homophily_keeps_rewired_ties_in_group() {
        let mut groups = vec![0u8; 500];
        groups.extend(vec![1u8; 500]);
        let mut rng = ChaCha8Rng::seed_from_u64(2);
        let layout = Layout { groups: 2, areas: 1, cells: vec![0..500, 500..1000] };
        let areas = vec![0u8; 1000];
        let net = Network::small_world(&groups, &areas, &layout, &shape(8, 1.0, 1.0), &mut rng);
        let cross: usize =
            (0..1000).map(|i| net.ties(i).iter().filter(|&&j| groups[j as usize] != groups[i]).count()).sum();
        assert_eq!(cross, 0);
        let mut rng = ChaCha8Rng::seed_from_u64(2);
        let mixed = Network::small_world(&groups, &areas, &layout, &shape(8, 1.0, 0.0), &mut rng);
        let cross: usize =
            (0..1000).map(|i| mixed.ties(i).iter().filter(|&&j| groups[j as usize] != groups[i]).count()).sum();
        assert!(cross > 2000, "random rewiring should cross groups about half the time: {cross}");
    }
}
