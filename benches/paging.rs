//! The in-process hot path of `graphd list-users`: parsing one 999-user Graph page and
//! rendering it in each output format (to a sink, so only graphd's work is measured).
//!
//! `cargo bench --bench paging`. Whole-process throughput is in scripts/bench.sh.

use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use graphd::graph::Page;
use graphd::output::ItemWriter;
use graphd::output::OutputFormat;
use serde_json::json;

/// A page shaped like Graph's `GET /v1.0/users` with the default properties.
fn page_body(users: usize) -> Vec<u8> {
    let value: Vec<_> = (0..users)
        .map(|i| {
            json!({
                "businessPhones": [format!("+1 425 555 {:04}", i % 10_000)],
                "displayName": format!("User {i} Example"),
                "givenName": "User",
                "jobTitle": "Engineer, \"Platform\"",
                "mail": format!("user{i}@contoso.onmicrosoft.com"),
                "mobilePhone": null,
                "officeLocation": "18/2111",
                "preferredLanguage": "en-US",
                "surname": format!("Example{i}"),
                "userPrincipalName": format!("user{i}@contoso.onmicrosoft.com"),
                "id": format!("{i:08x}-0000-4000-8000-000000000000"),
            })
        })
        .collect();
    serde_json::to_vec(&json!({
        "@odata.context": "https://graph.microsoft.com/v1.0/$metadata#users",
        "@odata.nextLink": "https://graph.microsoft.com/v1.0/users?$top=999&$skiptoken=RFNwdAIAAQAAAD8",
        "value": value,
    }))
    .expect("serializes")
}

fn bench(c: &mut Criterion) {
    let body = page_body(999);
    let mut group = c.benchmark_group("page of 999 users");
    group.throughput(Throughput::Elements(999));
    group.bench_function("parse", |b| {
        b.iter(|| {
            black_box(
                serde_json::from_slice::<Page<'_>>(black_box(&body))
                    .expect("parses")
                    .value
                    .len(),
            )
        })
    });
    let page: Page<'_> = serde_json::from_slice(&body).expect("parses");
    let columns = || {
        ["id", "displayName", "userPrincipalName", "mail"]
            .map(String::from)
            .to_vec()
    };
    for (name, format, cols) in [
        ("render ndjson", OutputFormat::Ndjson, Vec::new()),
        ("render json", OutputFormat::Json, Vec::new()),
        ("render csv", OutputFormat::Csv, columns()),
        ("render table", OutputFormat::Table, columns()),
    ] {
        group.bench_function(name, |b| {
            b.iter(|| {
                let mut w = ItemWriter::to(std::io::sink(), format, cols.clone());
                w.page(black_box(&page.value)).expect("renders");
                w.finish().expect("finishes");
            })
        });
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
