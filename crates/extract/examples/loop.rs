//! Extracts one page many times, for profiling: `cargo run --release -p sitecensus-extract --example loop -- FILE N`.

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let bytes = std::fs::read(&args[1]).expect("readable file");
    let n: usize = args.get(2).and_then(|s| s.parse().ok()).unwrap_or(200);
    let url = url::Url::parse("http://www.example.gov.cn/col/index.html").expect("URL");
    let opts = sitecensus_extract::Options {
        as_of: chrono::NaiveDate::from_ymd_opt(2024, 7, 10).expect("date"),
        homepage: None,
    };
    let mut items = 0;
    for _ in 0..n {
        items += sitecensus_extract::extract(&bytes, None, &url, &opts).items.len();
    }
    std::io::Write::write_all(&mut std::io::stdout(), format!("{items}\n").as_bytes()).expect("stdout");
}
