//! Every `--output` format read back by a real parser (serde_json, the csv crate), and the
//! JSON array still valid when an error stops the listing midway.

use graphd::emulator::{FaultAction, FaultRule};

use super::*;

const DEFAULT_COLUMNS: [&str; 4] = ["id", "displayName", "userPrincipalName", "mail"];

#[test]
fn json_and_ndjson_carry_the_same_users() {
    let emu = start(1500);
    let array = json_array(&list(&emu, &[]));
    let lines = ndjson(&list(&emu, &["--output", "ndjson"]));
    assert_in_order(&array, 1500);
    assert_eq!(array, lines);
    assert_eq!(array, emulator_listing(&emu, "/v1.0/users?$top=999"));
    assert!(array.iter().all(Value::is_object));
}

#[test]
fn csv_reads_back_with_the_default_columns() {
    let emu = start(1200);
    let out = list(&emu, &["--output", "csv"]);
    let mut reader = csv::Reader::from_reader(out.as_slice());
    assert_eq!(
        reader.headers().unwrap().iter().collect::<Vec<_>>(),
        DEFAULT_COLUMNS
    );
    let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    let requests = graph_requests(&emu);
    let users = emulator_listing(&emu, "/v1.0/users?$top=999");
    assert_eq!(rows.len(), users.len());
    for (row, user) in rows.iter().zip(&users) {
        for (cell, column) in row.iter().zip(DEFAULT_COLUMNS) {
            assert_eq!(
                cell,
                user[column].as_str().unwrap_or(""),
                "{column} of {user}"
            );
        }
    }
    // The default columns are asked for with $select, not fetched and dropped.
    assert_eq!(requests.len(), 2);
    for r in &requests {
        assert!(
            r.path
                .contains("$select=id%2CdisplayName%2CuserPrincipalName%2Cmail"),
            "{}",
            r.path
        );
    }
}

#[test]
fn csv_with_select_flattens_lists_and_blanks_nulls() {
    let emu = start(300);
    let out = list(
        &emu,
        &[
            "-o",
            "csv",
            // The data exactly: phone numbers start with `+`, which CSV otherwise defuses.
            "--csv-raw",
            "--select",
            "id,businessPhones,mobilePhone,accountEnabled",
        ],
    );
    let mut reader = csv::Reader::from_reader(out.as_slice());
    assert_eq!(
        reader.headers().unwrap().iter().collect::<Vec<_>>(),
        ["id", "businessPhones", "mobilePhone", "accountEnabled"]
    );
    let users = emulator_listing(
        &emu,
        "/v1.0/users?$select=id,businessPhones,mobilePhone,accountEnabled",
    );
    let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    assert_eq!(rows.len(), users.len());
    let (mut nulls, mut phones) = (0, 0);
    for (row, user) in rows.iter().zip(&users) {
        assert_eq!(&row[0], user["id"].as_str().unwrap());
        let listed: Vec<&str> = user["businessPhones"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p.as_str().unwrap())
            .collect();
        phones += listed.len();
        assert_eq!(&row[1], listed.join("; "));
        match user["mobilePhone"].as_str() {
            Some(m) => assert_eq!(&row[2], m),
            None => {
                nulls += 1;
                assert_eq!(&row[2], "");
            }
        }
        assert_eq!(&row[3], user["accountEnabled"].to_string());
    }
    assert!(
        nulls > 0 && phones > 0,
        "the sample has nulls and phone lists"
    );
}

#[test]
fn table_to_a_pipe_is_aligned_and_never_cut() {
    let emu = start(1500);
    let out = String::from_utf8(list(&emu, &["--output", "table"])).unwrap();
    let lines: Vec<Vec<char>> = out.lines().map(|l| l.chars().collect()).collect();
    assert_eq!(lines.len(), 1501, "a header and one row per user");
    assert!(
        !out.contains('…'),
        "stdout is not a terminal: nothing is cut"
    );
    let header: String = lines[0].iter().collect();
    assert_eq!(
        header.split_whitespace().collect::<Vec<_>>(),
        DEFAULT_COLUMNS
    );
    // Where each column starts in the header is where it starts on every row of the first
    // page (which sized the columns); later rows may run longer, never shorter.
    let starts: Vec<usize> = DEFAULT_COLUMNS
        .iter()
        .map(|c| header.find(c).unwrap())
        .collect();
    let users = emulator_listing(&emu, "/v1.0/users?$top=999");
    for (i, (line, user)) in lines[1..].iter().zip(&users).enumerate() {
        let text: String = line.iter().collect();
        let cells: Vec<&str> = text
            .split("  ")
            .map(str::trim)
            .filter(|c| !c.is_empty())
            .collect();
        let full: Vec<&str> = DEFAULT_COLUMNS
            .iter()
            .map(|c| user[*c].as_str().unwrap_or(""))
            .filter(|v| !v.is_empty())
            .collect();
        assert_eq!(cells, full, "every value whole: {text}");
        if i < 999 {
            for (k, column) in DEFAULT_COLUMNS.iter().enumerate().skip(1) {
                assert!(
                    line[starts[k] - 2..starts[k]] == [' ', ' '],
                    "{column} is not two spaces after the previous column: {header}\n{text}"
                );
            }
        }
    }
}

#[test]
fn an_empty_tenant_in_every_format() {
    let emu = start(0);
    assert_eq!(json_array(&list(&emu, &[])), Vec::<Value>::new());
    assert!(list(&emu, &["-o", "ndjson"]).is_empty());
    let csv_out = list(&emu, &["-o", "csv"]);
    let mut reader = csv::Reader::from_reader(csv_out.as_slice());
    assert_eq!(
        reader.headers().unwrap().iter().collect::<Vec<_>>(),
        DEFAULT_COLUMNS
    );
    assert_eq!(reader.records().count(), 0);
    let table = String::from_utf8(list(&emu, &["-o", "table"])).unwrap();
    assert_eq!(table.lines().count(), 1);
    assert_eq!(
        table.split_whitespace().collect::<Vec<_>>(),
        DEFAULT_COLUMNS
    );
}

#[test]
fn json_stays_one_valid_array_when_an_error_stops_the_listing() {
    // The third page arrives cut in half: two pages are out, then exit 5.
    let emu = start(3000);
    emu.set_faults(vec![FaultRule::graph(FaultAction::TruncatedJson).skip(2)]);
    let out = graphd_at(&emu)
        .args(["list-users", "--top", "500"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(5), "{}", stderr(&out));
    let users = json_array(&out.stdout);
    assert_in_order(&users, 1000);
    let err = stderr(&out);
    assert!(err.starts_with("graphd: error: "), "{err}");
    assert!(err.contains("not a Graph collection"), "{err}");

    // The same for NDJSON: every line that was printed is whole.
    let emu = start(3000);
    emu.set_faults(vec![FaultRule::graph(FaultAction::TruncatedJson).skip(1)]);
    let out = graphd_at(&emu)
        .args(["list-users", "--top", "500", "-o", "ndjson"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(5), "{}", stderr(&out));
    assert_in_order(&ndjson(&out.stdout), 500);
}
