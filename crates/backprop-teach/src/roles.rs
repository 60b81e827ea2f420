//! Who the units of a network are in words: the company network's salespeople, managers and
//! CEO, or plain "input 3", "unit 2 of layer 1" and "output 1".

use serde::Serialize;

/// Names for the units of the company network: inputs are salespeople, hidden units
/// managers, the output the CEO.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct CompanyRoles {
    /// One input unit: `"salesperson"`.
    pub input: String,
    /// One hidden unit: `"manager"`.
    pub hidden: String,
    /// One output unit: `"CEO"`.
    pub output: String,
}

impl Default for CompanyRoles {
    fn default() -> Self {
        Self::company()
    }
}

impl CompanyRoles {
    /// Salespeople, managers and the CEO.
    pub fn company() -> Self {
        Self {
            input: "salesperson".into(),
            hidden: "manager".into(),
            output: "CEO".into(),
        }
    }

    /// The name of unit `unit` (0-based) in column `column` of a network with layer sizes
    /// `sizes` (column 0 is the input): `"salesperson 1"`, `"manager 2"`, `"CEO"` (a single
    /// output is not numbered). With more than one hidden layer, hidden units also name their
    /// layer: `"manager 2 of layer 1"`.
    pub fn unit_name(&self, sizes: &[usize], column: usize, unit: usize) -> String {
        let last = sizes.len() - 1;
        if column == 0 {
            format!("{} {}", self.input, unit + 1)
        } else if column == last {
            if sizes[last] == 1 {
                self.output.clone()
            } else {
                format!("{} {}", self.output, unit + 1)
            }
        } else if last > 2 {
            format!("{} {} of layer {column}", self.hidden, unit + 1)
        } else {
            format!("{} {}", self.hidden, unit + 1)
        }
    }
}

/// The plural of a role: `"salesperson"` → `"salespeople"`, `"manager"` → `"managers"`.
pub(crate) fn plural(role: &str) -> String {
    match role.strip_suffix("person") {
        Some(stem) => format!("{stem}people"),
        None => format!("{role}s"),
    }
}

/// The name of a unit with or without roles: `"manager 2"`, or `"input 3"`, `"unit 2 of
/// layer 1"`, `"output 1"` when there are none.
pub fn unit_name(
    roles: Option<&CompanyRoles>,
    sizes: &[usize],
    column: usize,
    unit: usize,
) -> String {
    match roles {
        Some(roles) => roles.unit_name(sizes, column, unit),
        None if column == 0 => format!("input {}", unit + 1),
        None if column == sizes.len() - 1 => format!("output {}", unit + 1),
        None => format!("unit {} of layer {column}", unit + 1),
    }
}
