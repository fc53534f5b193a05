//! Dates as Chinese government sites write them: `2024-07-10`, `2024/7/10`, `2024.07.10`,
//! `2024年7月10日`, `二〇二四年七月十日`, `18年03月20日`, `[07-10]` and `07.10` with the year implied,
//! `20240710` in URLs — without taking phone numbers, document numbers (〔2024〕12号), prices or
//! ID numbers for dates.

use std::sync::LazyLock;

use chrono::{Datelike, NaiveDate, NaiveDateTime, NaiveTime};
use regex::Regex;

/// A date found in text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Found {
    /// The date.
    pub date: NaiveDate,
    /// The time of day, where written.
    pub time: Option<NaiveTime>,
    /// Byte range of the match in the text searched.
    pub start: usize,
    /// End of the match (exclusive).
    pub end: usize,
}

impl Found {
    /// `YYYY-MM-DD`, or `YYYY-MM-DD HH:MM` when a time was written.
    #[must_use]
    pub fn to_text(&self) -> String {
        match self.time {
            Some(t) => format!("{} {}", self.date.format("%Y-%m-%d"), t.format("%H:%M")),
            None => self.date.format("%Y-%m-%d").to_string(),
        }
    }

    /// The date and time as one value (midnight where no time was written).
    #[must_use]
    pub fn datetime(&self) -> NaiveDateTime {
        self.date.and_time(self.time.unwrap_or(NaiveTime::MIN))
    }
}

static FULL: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(?x)
        (?P<y>(?:19|20)\d{2})\s*(?:
            -\s*(?P<m1>\d{1,2})\s*-\s*(?P<d1>\d{1,2})
          | /\s*(?P<m2>\d{1,2})\s*/\s*(?P<d2>\d{1,2})
          | \.(?P<m3>\d{1,2})\.(?P<d3>\d{1,2})
          | 年\s*(?P<m4>\d{1,2})\s*月\s*(?P<d4>\d{1,2})\s*日?
        )
        (?:(?:\s*|T)(?P<hh>\d{1,2})[:：](?P<mm>\d{2})(?:[:：](?P<ss>\d{2}))?)?",
    )
    .expect("valid regex")
});

static TWO_DIGIT_YEAR: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"(?P<y>\d{2})年(?P<m>\d{1,2})月(?P<d>\d{1,2})日").expect("valid regex"));

static CN_NUMERALS: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?P<y>[〇○零Ｏ一二三四五六七八九]{4})年(?P<m>[一二三四五六七八九十]{1,2})月(?P<d>[一二三四五六七八九十]{1,3})日")
        .expect("valid regex")
});

static SHORT: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?P<m>\d{2})(?:-|/|\.)(?P<d>\d{2})|(?P<m2>\d{1,2})月(?P<d2>\d{1,2})日").expect("valid regex")
});

static URL_DATES: LazyLock<Vec<Regex>> = LazyLock::new(|| {
    [
        // /art/2018/3/17/art_41146_1.html, /2024/07/10/
        r"/(?P<y>(?:19|20)\d{2})/(?P<m>\d{1,2})/(?P<d>\d{1,2})/",
        // t20240710_123.html, /20240710/, _20240710.
        r"(?:^|[/_t-])(?P<y>(?:19|20)\d{2})(?P<m>[01]\d)(?P<d>[0-3]\d)(?:[_./-]|$)",
        // /2018-03/06/c_1122.htm
        r"/(?P<y>(?:19|20)\d{2})-(?P<m>\d{1,2})/(?P<d>\d{1,2})/",
        // /201803/14/ (people.com.cn style)
        r"/(?P<y>(?:19|20)\d{2})(?P<m>[01]\d)/(?P<d>[0-3]\d)/",
        // /2024-07-10/
        r"/(?P<y>(?:19|20)\d{2})-(?P<m>\d{1,2})-(?P<d>\d{1,2})(?:/|\.|_)",
    ]
    .iter()
    .map(|p| Regex::new(p).expect("valid regex"))
    .collect()
});

static URL_YEAR_MONTH: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"/(?P<y>(?:19|20)\d{2})(?:-)?(?P<m>[01]\d)/").expect("valid regex"));

fn digit_before(text: &str, start: usize) -> bool {
    text[..start].chars().next_back().is_some_and(|c| c.is_ascii_digit())
}

fn digit_after(text: &str, end: usize) -> bool {
    text[end..].chars().next().is_some_and(|c| c.is_ascii_digit())
}

fn num(s: &str) -> u32 {
    s.parse().unwrap_or(0)
}

/// Whether `text` holds a run of at least `n` ASCII digits (a cheap test before any regex).
fn has_digit_run(text: &str, n: usize) -> bool {
    let mut run = 0;
    for b in text.bytes() {
        if b.is_ascii_digit() {
            run += 1;
            if run >= n {
                return true;
            }
        } else {
            run = 0;
        }
    }
    false
}

/// Every fully written date (with its year) in `text`, in order. Years outside 1990..=2100 and
/// impossible days are not dates.
pub fn full_dates(text: &str) -> impl Iterator<Item = Found> + '_ {
    // Most text holds no date at all: skip the regexes unless the shapes they need are there.
    let has_year = has_digit_run(text, 4);
    let has_nian = text.contains('年');
    let has_two = has_nian && has_digit_run(text, 2);
    let has_cn = has_nian && (text.contains('〇') || text.contains('○') || text.contains('零'));
    let latin = has_year.then(|| FULL.captures_iter(text)).into_iter().flatten().filter_map(move |c| {
        let all = c.get(0)?;
        let y = c.name("y")?;
        if digit_before(text, y.start()) {
            return None;
        }
        let (m, d) = (1..=4).find_map(|i| Some((c.name(&format!("m{i}"))?, c.name(&format!("d{i}"))?)))?;
        let date_end = c.name("hh").map_or(all.end(), |_| d.end());
        if digit_after(text, date_end) && c.name("hh").is_none() {
            return None;
        }
        let date = make_date(num(y.as_str()) as i32, num(m.as_str()), num(d.as_str()))?;
        let time = match (c.name("hh"), c.name("mm")) {
            (Some(h), Some(mi)) => {
                NaiveTime::from_hms_opt(num(h.as_str()), num(mi.as_str()), c.name("ss").map_or(0, |s| num(s.as_str())))
            }
            _ => None,
        };
        Some(Found { date, time, start: y.start(), end: all.end() })
    });
    let two = has_two.then(|| TWO_DIGIT_YEAR.captures_iter(text)).into_iter().flatten().filter_map(move |c| {
        let all = c.get(0)?;
        if digit_before(text, all.start()) {
            return None;
        }
        let date = make_date(2000 + num(&c["y"]) as i32, num(&c["m"]), num(&c["d"]))?;
        Some(Found { date, time: None, start: all.start(), end: all.end() })
    });
    let cn = has_cn.then(|| CN_NUMERALS.captures_iter(text)).into_iter().flatten().filter_map(|c| {
        let all = c.get(0)?;
        let y: String = c["y"].chars().map(|ch| char::from_digit(cn_digit(ch)?, 10)).collect::<Option<String>>()?;
        let date = make_date(y.parse().ok()?, cn_number(&c["m"])?, cn_number(&c["d"])?)?;
        Some(Found { date, time: None, start: all.start(), end: all.end() })
    });
    let mut all: Vec<Found> = latin.chain(two).chain(cn).collect();
    all.sort_by_key(|f| f.start);
    all.dedup_by(|b, a| b.start < a.end);
    all.into_iter()
}

/// The first fully written date in `text`.
#[must_use]
pub fn first_full_date(text: &str) -> Option<Found> {
    full_dates(text).next()
}

/// A date written without its year (`07-10`, `07/10`, `07.10`, `7月10日`) that makes up the
/// whole of `text` apart from brackets, spaces and a label. The year is `year` where the caller
/// knows it (from the item's URL), else the latest such date not after `as_of`.
#[must_use]
pub fn short_date_alone(text: &str, year: Option<i32>, as_of: NaiveDate) -> Option<NaiveDate> {
    let t =
        text.trim_matches(|c: char| c.is_whitespace() || "[]()（）【】〔〕<>《》|·:：-_".contains(c) || c == '\u{a0}');
    let t = ["发布时间", "发布日期", "更新时间", "日期", "时间"].iter().fold(t, |t, p| t.strip_prefix(p).unwrap_or(t));
    let t = t.trim_matches(|c: char| c.is_whitespace() || c == ':' || c == '：');
    if t.len() > 16 || !has_digit_run(t, 1) {
        return None;
    }
    let c = SHORT.captures(t)?;
    let all = c.get(0)?;
    if all.start() != 0 || all.end() != t.len() {
        return None;
    }
    let (m, d) = match (c.name("m"), c.name("d")) {
        (Some(m), Some(d)) => (num(m.as_str()), num(d.as_str())),
        _ => (num(c.name("m2")?.as_str()), num(c.name("d2")?.as_str())),
    };
    match year {
        Some(y) => make_date(y, m, d),
        None => implied_year(m, d, as_of),
    }
}

/// The latest date with this month and day that is not after `as_of` (checks.md's rule).
#[must_use]
pub fn implied_year(month: u32, day: u32, as_of: NaiveDate) -> Option<NaiveDate> {
    let this = NaiveDate::from_ymd_opt(as_of.year(), month, day);
    match this {
        Some(d) if d <= as_of => Some(d),
        _ => (1..=4).find_map(|back| NaiveDate::from_ymd_opt(as_of.year() - back, month, day)),
    }
}

/// The date an article URL carries (`/art/2024/7/10/…`, `t20240710_…`, `/2024-07/10/…`).
#[must_use]
pub fn date_in_url(url: &str) -> Option<NaiveDate> {
    let path = url.split_once("://").map_or(url, |(_, rest)| rest.find('/').map_or("", |i| &rest[i..]));
    if !has_digit_run(path, 4) {
        return None;
    }
    URL_DATES
        .iter()
        .find_map(|re| re.captures_iter(path).find_map(|c| make_date(num(&c["y"]) as i32, num(&c["m"]), num(&c["d"]))))
}

/// The year (and month) an article URL carries even without a day (`/201803/t…`).
#[must_use]
pub fn year_in_url(url: &str) -> Option<(i32, u32)> {
    if let Some(d) = date_in_url(url) {
        return Some((d.year(), d.month()));
    }
    if !has_digit_run(url, 6) {
        return None;
    }
    let c = URL_YEAR_MONTH.captures(url)?;
    let (y, m) = (num(&c["y"]) as i32, num(&c["m"]));
    (1..=12).contains(&m).then_some((y, m))
}

fn make_date(y: i32, m: u32, d: u32) -> Option<NaiveDate> {
    if !(1990..=2100).contains(&y) {
        return None;
    }
    NaiveDate::from_ymd_opt(y, m, d)
}

fn cn_digit(c: char) -> Option<u32> {
    Some(match c {
        '〇' | '○' | '零' | 'Ｏ' => 0,
        '一' => 1,
        '二' => 2,
        '三' => 3,
        '四' => 4,
        '五' => 5,
        '六' => 6,
        '七' => 7,
        '八' => 8,
        '九' => 9,
        _ => return None,
    })
}

fn cn_number(s: &str) -> Option<u32> {
    let chars: Vec<char> = s.chars().collect();
    match chars.as_slice() {
        ['十'] => Some(10),
        ['十', u] => Some(10 + cn_digit(*u)?),
        [t, '十'] => Some(cn_digit(*t)? * 10),
        [t, '十', u] => Some(cn_digit(*t)? * 10 + cn_digit(*u)?),
        [u] => cn_digit(*u),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    fn dates(text: &str) -> Vec<String> {
        full_dates(text).map(|f| f.to_text()).collect()
    }

    #[test]
    fn every_full_shape() {
        assert_eq!(dates("发布时间：2024-07-10"), ["2024-07-10"]);
        assert_eq!(dates("2024/7/10"), ["2024-07-10"]);
        assert_eq!(dates("[2024.07.10]"), ["2024-07-10"]);
        assert_eq!(dates("2024年7月10日 星期三"), ["2024-07-10"]);
        assert_eq!(dates("2024 年 7 月 10 日"), ["2024-07-10"]);
        assert_eq!(dates("发表时间：18年03月20日"), ["2018-03-20"]);
        assert_eq!(dates("二〇二四年七月十日"), ["2024-07-10"]);
        assert_eq!(dates("二○一九年十二月三十一日印发"), ["2019-12-31"]);
        assert_eq!(dates("2022-02-11 09:30:15 来源"), ["2022-02-11 09:30"]);
        assert_eq!(dates("更新时间：2018/3/20 15:20:11"), ["2018-03-20 15:20"]);
        assert_eq!(dates("时间：2004年10月21日14:18"), ["2004-10-21 14:18"]);
        assert_eq!(dates("2005年3月11日12:12 来源"), ["2005-03-11 12:12"]);
    }

    #[test]
    fn numbers_that_are_not_dates() {
        assert!(dates("电话：0795-8823456 传真：0795-8821234").is_empty());
        assert!(dates("赣府发〔2024〕12号").is_empty());
        assert!(dates("价格 2024.50 元").is_empty());
        assert!(dates("身份证号 360922199001011234").is_empty());
        assert!(dates("1-10月德清县固定资产投资").is_empty());
        assert!(dates("2024-13-40").is_empty());
        assert!(dates("编号 12024-07-10").is_empty());
        assert!(dates("第2024-07-101期").is_empty());
    }

    #[test]
    fn short_dates_take_the_latest_year_not_after_as_of() {
        let as_of = d("2024-07-10");
        assert_eq!(short_date_alone("[07-10]", None, as_of), Some(d("2024-07-10")));
        assert_eq!(short_date_alone(" 12-30 ", None, as_of), Some(d("2023-12-30")));
        assert_eq!(short_date_alone("10.11", Some(2017), as_of), Some(d("2017-10-11")));
        assert_eq!(short_date_alone("7月9日", None, as_of), Some(d("2024-07-09")));
        assert_eq!(short_date_alone("(02-29)", None, d("2023-03-01")), Some(d("2020-02-29")));
        assert_eq!(short_date_alone("共 12-30 页", None, as_of), None);
        assert_eq!(short_date_alone("13-40", None, as_of), None);
    }

    #[test]
    fn dates_in_urls() {
        assert_eq!(date_in_url("http://www.zj.gov.cn/art/2018/3/17/art_41146_2271623.html"), Some(d("2018-03-17")));
        assert_eq!(date_in_url("./xxgk/gzdt/201803/t20180314_71361.html"), Some(d("2018-03-14")));
        assert_eq!(date_in_url("http://www.news.cn/2018-03/06/c_1122494344.htm"), Some(d("2018-03-06")));
        assert_eq!(date_in_url("http://www.a.gov.cn/Item/85971.aspx"), None);
        assert_eq!(date_in_url("http://www.a.gov.cn/page?id=20240710123"), None);
        assert_eq!(year_in_url("./qyly/201710/t2017101_842040.shtml"), Some((2017, 10)));
    }
}
