//! `privacy.personal_data`: citizens' personal data published by mistake — 18-digit resident ID
//! numbers with a valid area, birth date and checksum; mobile numbers beside personal names (a
//! list of people, not one official's contact line); bank card numbers that pass Luhn beside a
//! card or account label. Masked values (330106********1234) are not leaks, nor are 18-digit
//! document numbers with a wrong checksum. Values are masked in every report.

use chrono::{Datelike, NaiveDate};
use serde::Deserialize;
use sitecensus_core::CheckId;
use sitecensus_core::Finding;

use crate::Rule;

/// `privacy.personal_data`.
pub const ID: CheckId = CheckId::PrivacyPersonalData;

/// Parameters of the check.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Params {
    /// Mobile numbers beside names that make a list of people (one contact line is normal).
    pub min_named_mobiles: usize,
    /// Attachments read for personal data (file extensions).
    #[serde(default)]
    pub attachments: Vec<String>,
    /// Largest attachment read, in bytes.
    #[serde(default = "ten_mb")]
    pub max_attachment_bytes: usize,
}

fn ten_mb() -> usize {
    10 * 1024 * 1024
}

/// Province codes: the first two digits of a resident ID number.
const PROVINCES: &[u32] = &[
    11, 12, 13, 14, 15, 21, 22, 23, 31, 32, 33, 34, 35, 36, 37, 41, 42, 43, 44, 45, 46, 50, 51, 52, 53, 54, 61, 62, 63,
    64, 65, 71, 81, 82,
];

/// Common surnames: a mobile number beside one of these followed by a given name is beside a person.
const SURNAMES: &str = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤";

/// Labels that introduce a person or an account.
const PERSON_LABELS: &[&str] = &["姓名", "联系人", "申请人", "户主", "法人", "负责人", "经办人", "本人"];
const CARD_LABELS: &[&str] = &["卡号", "账号", "银行卡", "开户", "账户", "帐号", "帐户"];

/// Whether an 18-character string is a valid resident ID number, as of `today`.
#[must_use]
pub fn is_resident_id(s: &str, today: NaiveDate) -> bool {
    let b = s.as_bytes();
    if b.len() != 18
        || !b[..17].iter().all(u8::is_ascii_digit)
        || !(b[17].is_ascii_digit() || b[17] == b'X' || b[17] == b'x')
    {
        return false;
    }
    let num = |r: std::ops::Range<usize>| s[r].parse::<u32>().unwrap_or(0);
    if !PROVINCES.contains(&num(0..2)) {
        return false;
    }
    let Some(birth) = NaiveDate::from_ymd_opt(num(6..10) as i32, num(10..12), num(12..14)) else { return false };
    if birth.year() < 1900 || birth > today {
        return false;
    }
    const W: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
    let sum: u32 = b[..17].iter().zip(W).map(|(d, w)| u32::from(d - b'0') * w).sum();
    let check = b"10X98765432"[(sum % 11) as usize];
    b[17].to_ascii_uppercase() == check
}

/// Whether a digit string passes the Luhn check.
#[must_use]
pub fn luhn(s: &str) -> bool {
    let mut sum = 0;
    for (i, c) in s.bytes().rev().enumerate() {
        let mut d = u32::from(c - b'0');
        if i % 2 == 1 {
            d *= 2;
            if d > 9 {
                d -= 9;
            }
        }
        sum += d;
    }
    sum % 10 == 0
}

/// A value as reports show it: the first 6 and last 4 digits (mobile numbers: first 3 and last 4).
#[must_use]
pub fn mask(v: &str) -> String {
    let chars: Vec<char> = v.chars().collect();
    let (head, tail) = if chars.len() <= 11 { (3, 4) } else { (6, 4) };
    if chars.len() <= head + tail {
        return "*".repeat(chars.len());
    }
    let mut s: String = chars[..head].iter().collect();
    s.push_str(&"*".repeat(chars.len() - head - tail));
    s.extend(&chars[chars.len() - tail..]);
    s
}

/// Runs of ASCII digits (with a trailing X for ID numbers) and where they start.
fn digit_runs(text: &str) -> Vec<(usize, &str)> {
    let b = text.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        if b[i].is_ascii_digit() {
            let start = i;
            while i < b.len() && b[i].is_ascii_digit() {
                i += 1;
            }
            if i < b.len() && (b[i] == b'X' || b[i] == b'x') && i - start == 17 {
                i += 1;
            }
            // A masked value goes on with asterisks: not a leak.
            if i < b.len() && b[i] == b'*' || start > 0 && b[start - 1] == b'*' {
                continue;
            }
            out.push((start, &text[start..i]));
        } else {
            i += 1;
        }
    }
    out
}

/// Whether a name sits just before position `at` of the text.
fn name_before(text: &str, at: usize) -> bool {
    // Wide enough to reach a name across the ID number beside it in a table row.
    let before: Vec<char> = text[..at].chars().rev().take(40).collect::<Vec<_>>().into_iter().rev().collect();
    let before: String = before.into_iter().collect();
    if PERSON_LABELS.iter().any(|l| before.contains(l)) {
        return true;
    }
    // "张三 138…", "李四四：138…", a table row "王五 | 男 | 138…".
    let cleaned: Vec<char> = before.chars().filter(|c| !c.is_ascii_digit()).collect();
    let mut runs: Vec<String> = Vec::new();
    let mut cur = String::new();
    for c in cleaned {
        if ('\u{4e00}'..='\u{9fff}').contains(&c) {
            cur.push(c);
        } else if !cur.is_empty() {
            runs.push(std::mem::take(&mut cur));
        }
    }
    if !cur.is_empty() {
        runs.push(cur);
    }
    runs.iter().rev().take(3).any(|r| {
        let n = r.chars().count();
        (2..=3).contains(&n) && r.chars().next().is_some_and(|c| SURNAMES.contains(c))
    })
}

/// The personal data in `text`: (kind, value) pairs, values in full (mask before showing).
#[must_use]
pub fn find(text: &str, today: NaiveDate, min_named_mobiles: usize) -> Vec<(&'static str, String)> {
    let mut ids = Vec::new();
    let mut mobiles = Vec::new();
    let mut cards = Vec::new();
    for (at, run) in digit_runs(text) {
        match run.len() {
            18 if is_resident_id(run, today) => ids.push(run.to_owned()),
            11 if run.starts_with('1') && (b'3'..=b'9').contains(&run.as_bytes()[1]) && name_before(text, at) => {
                mobiles.push(run.to_owned())
            }
            16..=19
                if luhn(run) && {
                    let before: String = text[..at].chars().rev().take(12).collect();
                    CARD_LABELS.iter().any(|l| before.contains(&l.chars().rev().collect::<String>()))
                } =>
            {
                cards.push(run.to_owned());
            }
            _ => {}
        }
    }
    ids.sort();
    ids.dedup();
    mobiles.sort();
    mobiles.dedup();
    cards.sort();
    cards.dedup();
    let mut out: Vec<(&'static str, String)> = ids.into_iter().map(|v| ("resident_id", v)).collect();
    if mobiles.len() >= min_named_mobiles {
        out.extend(mobiles.into_iter().map(|v| ("mobile", v)));
    }
    out.extend(cards.into_iter().map(|v| ("bank_card", v)));
    out
}

/// One finding for a page (or attachment) that publishes personal data.
#[must_use]
pub fn check_text(url: &str, text: &str, today: NaiveDate, rule: &Rule<Params>) -> Vec<Finding> {
    let found = find(text, today, rule.params.min_named_mobiles);
    if found.is_empty() {
        return Vec::new();
    }
    let count = |k: &str| found.iter().filter(|(kind, _)| *kind == k).count();
    let (ids, mobiles, cards) = (count("resident_id"), count("mobile"), count("bank_card"));
    let (mut parts, mut parts_zh) = (Vec::new(), Vec::new());
    if ids > 0 {
        parts.push(format!("{ids} resident ID number(s)"));
        parts_zh.push(format!("{ids} 个居民身份证号码"));
    }
    if mobiles > 0 {
        parts.push(format!("{mobiles} mobile number(s) beside names"));
        parts_zh.push(format!("{mobiles} 个与姓名并列的手机号码"));
    }
    if cards > 0 {
        parts.push(format!("{cards} bank card number(s)"));
        parts_zh.push(format!("{cards} 个银行卡号"));
    }
    let samples: Vec<String> = found.iter().take(5).map(|(_, v)| mask(v)).collect();
    vec![
        Finding::new(ID, rule.severity, format!("{}: {}", parts.join(", "), samples.join(", ")))
            .zh(format!("公开了{}：{}", parts_zh.join("、"), samples.join("、")))
            .page(url)
            .detail("resident_ids", ids)
            .detail("mobiles", mobiles)
            .detail("bank_cards", cards)
            .detail(
                "masked",
                found
                    .iter()
                    .take(20)
                    .map(|(k, v)| serde_json::json!({"kind": k, "value": mask(v)}))
                    .collect::<Vec<_>>(),
            ),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn today() -> NaiveDate {
        NaiveDate::from_ymd_opt(2024, 7, 10).unwrap()
    }

    /// Builds a valid ID number from its first 17 digits.
    fn with_check(first17: &str) -> String {
        const W: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
        let sum: u32 = first17.bytes().zip(W).map(|(d, w)| u32::from(d - b'0') * w).sum();
        format!("{first17}{}", b"10X98765432"[(sum % 11) as usize] as char)
    }

    #[test]
    fn resident_ids_are_validated() {
        let id = with_check("36092219900101123");
        assert!(is_resident_id(&id, today()));
        let mut wrong = id.clone().into_bytes();
        wrong[17] = if wrong[17] == b'0' { b'1' } else { b'0' };
        assert!(
            !is_resident_id(std::str::from_utf8(&wrong).unwrap(), today()),
            "a wrong checksum is a document number"
        );
        assert!(!is_resident_id(&with_check("99092219900101123"), today()), "no such province");
        assert!(!is_resident_id(&with_check("36092219901301123"), today()), "no 13th month");
        assert!(!is_resident_id(&with_check("36092220300101123"), today()), "born in the future");
    }

    #[test]
    fn what_counts_as_a_leak() {
        let id = with_check("33010619850312123");
        let text = format!("公示名单：张三 身份证号{id}。李四 330106********1234。文号 330106198503121239");
        let found = find(&text, today(), 3);
        assert_eq!(found, [("resident_id", id.clone())]);
        assert_eq!(mask(&id), format!("330106********{}", &id[14..]));
        // One official's contact line is not a list of people; three named mobiles are.
        assert!(find("联系人：王科长，电话：13812345678", today(), 3).is_empty());
        let list = "张三 13812345678\n李四 13987654321\n王小五 15011112222";
        assert_eq!(find(list, today(), 3).len(), 3);
        assert!(find("订单号 13812345678 13987654321 15011112222", today(), 3).is_empty(), "no names");
        // A card number passing Luhn, beside a card label.
        assert_eq!(
            find("银行卡号：6222021234567890128", today(), 3),
            [("bank_card", "6222021234567890128".to_owned())]
        );
        assert!(luhn("6222021234567890128"));
        assert!(find("项目编号：6222021234567890128", today(), 3).is_empty());
        assert_eq!(mask("13812345678"), "138****5678");
    }
}
