//! Prints the page model of a saved page: `cargo run -p sitecensus-extract --example dump -- FILE URL AS_OF`.

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let bytes = std::fs::read(&args[1]).expect("readable file");
    let url = url::Url::parse(args.get(2).map_or("http://www.example.gov.cn/", String::as_str)).expect("URL");
    let as_of =
        chrono::NaiveDate::parse_from_str(args.get(3).map_or("2024-07-10", String::as_str), "%Y-%m-%d").expect("date");
    let page = sitecensus_extract::extract(&bytes, None, &url, &sitecensus_extract::Options { as_of, homepage: None });
    let json = serde_json::to_string_pretty(&page).expect("serialisable");
    std::io::Write::write_all(&mut std::io::stdout(), json.as_bytes()).expect("stdout");
}
