//! The hot path of a scan: decode, parse and read one page into the page model.

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use sitecensus_extract::{Options, extract};

fn pages() -> Vec<(&'static str, Vec<u8>, url::Url)> {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/sites");
    [
        ("homepage (UTF-8, table layout)", "county-table/index.html", "http://www.fengan.gov.cn/"),
        ("column list", "county-table/col/ywdt/index.html", "http://www.fengan.gov.cn/col/ywdt/index.html"),
        ("article", "county-table/art/2024/7/9/art_1001.html", "http://www.fengan.gov.cn/art/2024/7/9/art_1001.html"),
        ("homepage (GBK, div layout)", "city-gbk/index.shtml", "http://www.yian.gov.cn/index.shtml"),
    ]
    .into_iter()
    .map(|(name, file, url)| {
        (name, std::fs::read(root.join(file)).expect("fixture page"), url::Url::parse(url).expect("URL"))
    })
    .chain(std::iter::once((
        "article (a real provincial portal, 94 KB)",
        std::fs::read(
            std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("../../tests/corpus/gov-pages/article/gne_shanxi-gov_provincial_article_2019-09-18.html"),
        )
        .expect("corpus page"),
        url::Url::parse("http://www.shanxi.gov.cn/yw/sxyw/201909/t20190918_1.shtml").expect("URL"),
    )))
    .collect()
}

fn bench(c: &mut Criterion) {
    let opts = Options { as_of: chrono::NaiveDate::from_ymd_opt(2024, 7, 10).expect("date"), homepage: None };
    let mut group = c.benchmark_group("extract");
    for (name, bytes, url) in pages() {
        group.throughput(Throughput::Bytes(bytes.len() as u64));
        group.bench_function(name, |b| b.iter(|| extract(std::hint::black_box(&bytes), None, &url, &opts)));
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
