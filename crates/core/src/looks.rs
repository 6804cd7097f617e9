//! How every chart tells coalitions, groups and totals apart: one colour and one dash pattern
//! each, fixed by their order in the scenario, so that the command line's charts, the report
//! and the explorer draw the same programme and the same group alike. Data only: the outer
//! crates draw.
//!
//! Colours are Okabe & Ito's (2008) colour-blind-safe palette (yellow left out: too pale on
//! white), black kept for totals. Coalitions take the six colours solid, then dashed, then
//! dash-dotted (18 distinct looks before any repeats); groups and areas take long dashes, so
//! that a group's line is never mistaken for a programme's; reference lines are dotted.

/// Okabe & Ito's palette as RGB, black last.
pub const COLOURS: [[u8; 3]; 7] = [
    [0, 114, 178],   // blue
    [213, 94, 0],    // vermillion
    [0, 158, 115],   // bluish green
    [204, 121, 167], // reddish purple
    [230, 159, 0],   // orange
    [86, 180, 233],  // sky blue
    [0, 0, 0],       // black
];

/// Dash patterns (dash, gap) in units of the stroke width; (0, 0) is solid.
pub const DASHES: [(u32, u32); 5] = [(0, 0), (6, 3), (1, 2), (3, 2), (10, 3)];

/// Colours other than black.
const HUES: usize = COLOURS.len() - 1;
/// The dotted pattern, kept for reference lines.
const DOTTED: usize = 2;
/// The long dash, kept for groups and areas.
const LONG: usize = 4;

/// The visual style of a series: a colour of [`COLOURS`] and a pattern of [`DASHES`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Look {
    /// Index into [`COLOURS`].
    pub colour: usize,
    /// Index into [`DASHES`].
    pub dash: usize,
}

impl Look {
    /// Totals ("all coalitions", "all groups"): solid black.
    pub const TOTAL: Look = Look { colour: HUES, dash: 0 };

    /// The coalition at position `i` in the scenario.
    pub fn coalition(i: usize) -> Look {
        Look { colour: i % HUES, dash: [0, 1, 3][(i / HUES) % 3] }
    }

    /// The group (or, past the groups, the area) at position `i` in the scenario.
    pub fn group(i: usize) -> Look {
        Look { colour: (i + 1) % HUES, dash: LONG }
    }

    /// The `i`-th of a set of runs, parameters or curves: colours cycle fastest and the
    /// dashes change with them, so that neighbours differ in both.
    pub fn nth(i: usize) -> Look {
        Look { colour: i % COLOURS.len(), dash: i % 4 }
    }

    /// A thin dotted reference line in the colour of `look`.
    pub fn reference(look: Look) -> Look {
        Look { colour: look.colour, dash: DOTTED }
    }

    /// The colour as CSS hex (`#0072b2`).
    pub fn hex(self) -> String {
        let [r, g, b] = COLOURS[self.colour];
        format!("#{r:02x}{g:02x}{b:02x}")
    }

    /// The dash pattern as an SVG `stroke-dasharray` for a stroke `width` wide (empty: solid).
    pub fn dasharray(self, width: f64) -> String {
        match DASHES[self.dash] {
            (0, 0) => String::new(),
            (dash, gap) => format!("{} {}", dash as f64 * width, gap as f64 * width),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn eighteen_coalitions_and_the_groups_all_look_different() {
        let mut seen: Vec<Look> = (0..18).map(Look::coalition).collect();
        seen.extend((0..6).map(Look::group));
        seen.push(Look::TOTAL);
        for (i, a) in seen.iter().enumerate() {
            assert!(!seen[..i].contains(a), "look {i} repeats: {a:?}");
            assert_ne!(a.dash, DOTTED, "dotted is for reference lines");
        }
        assert_eq!(Look::coalition(0).hex(), "#0072b2");
        assert_eq!(Look::TOTAL.hex(), "#000000");
        assert_eq!(Look::coalition(0).dasharray(2.0), "");
        assert_eq!(Look::group(0).dasharray(2.0), "20 6");
    }
}
