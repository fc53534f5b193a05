//! Names of administrative divisions by their GB/T 2260 code (`360102` → 江西省南昌市东湖区), so
//! that every output shows where a site is, not only a code. The table ships with the program
//! (`data/regions`, see its README for provenance).

use std::collections::HashMap;
use std::sync::LazyLock;

use serde::Deserialize;

#[derive(Deserialize)]
struct Division {
    code: String,
    name: String,
    #[serde(default)]
    children: Vec<Division>,
}

/// Code (2 digits for a province, 4 for a prefecture, 6 for a county) → name.
static NAMES: LazyLock<HashMap<String, String>> = LazyLock::new(|| {
    let tree: Vec<Division> = serde_json::from_str(include_str!("../data/regions/pca-code.json"))
        .expect("the shipped division table is valid");
    let mut out = HashMap::new();
    let mut stack: Vec<&Division> = tree.iter().collect();
    while let Some(d) = stack.pop() {
        out.insert(d.code.clone(), d.name.clone());
        stack.extend(d.children.iter());
    }
    out
});

/// Every county-level division code the table knows (6 digits, not ending in `00`), in order:
/// what benchmarks and tests spread their synthetic sites over.
#[must_use]
pub fn county_codes() -> Vec<&'static str> {
    let mut codes: Vec<&'static str> =
        NAMES.keys().map(String::as_str).filter(|c| c.len() == 6 && !c.ends_with("00")).collect();
    codes.sort_unstable();
    codes
}

/// The full name of a 6-digit division code: province, prefecture and county as they apply
/// (`360000` → 江西省, `360100` → 江西省南昌市, `110101` → 北京市东城区); `None` for a code the
/// table does not know.
#[must_use]
pub fn name(code: &str) -> Option<String> {
    let code = code.trim();
    if code.len() != 6 || !code.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let province = NAMES.get(&code[..2])?;
    let mut full = province.clone();
    if &code[2..] == "0000" {
        return Some(full);
    }
    // Municipalities list their districts under 市辖区 / 县: not part of a name.
    if let Some(city) = NAMES
        .get(&code[..4])
        .filter(|c| !matches!(c.as_str(), "市辖区" | "县" | "省直辖县级行政区划" | "自治区直辖县级行政区划"))
    {
        full.push_str(city);
    }
    if &code[4..] != "00" {
        full.push_str(NAMES.get(code)?);
    }
    Some(full)
}

/// `code name` for display, or the code alone when the table does not know it.
#[must_use]
pub fn label(code: &str) -> String {
    match name(code) {
        Some(n) => format!("{code} {n}"),
        None => code.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_become_names_at_every_level() {
        assert_eq!(name("360102").as_deref(), Some("江西省南昌市东湖区"));
        assert_eq!(name("360100").as_deref(), Some("江西省南昌市"));
        assert_eq!(name("360000").as_deref(), Some("江西省"));
        assert_eq!(name("110101").as_deref(), Some("北京市东城区"));
        assert_eq!(name("999999"), None);
        assert_eq!(name("county"), None);
        assert_eq!(label("360102"), "360102 江西省南昌市东湖区");
        assert_eq!(label("county"), "county");
    }
}
