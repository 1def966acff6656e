#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]
//! Reproduces every vector of `vectors/crypto-vectors.json` with
//! `emv_test_cards::issuer`: key derivation, application cryptograms and
//! ARPCs, the CVN end-to-end cases (KCVs, ARQC, ARPC, script MAC) and the
//! master key → session key → AC chains. Each section counts the entries
//! and the expected values it checked, so a skipped entry fails.

use emv_test_cards::issuer::{
    AcInput, AcKeySource, ArpcInput, ArpcKeySource, ArpcMethod, Cvn, IccKeys, IssuerMasterKeys,
    KeyDerivation, Padding, ScriptMacInput, ScriptMacKeySource, SessionContext, TdesKey,
    application_cryptogram, arpc_method_1, arpc_method_2, common_session_key, derive_icc_mk,
    derive_icc_mk_option_a, derive_icc_mk_option_b, emv2000_tree_session_key,
    mastercard_skd_session_key, visa_sm_session_key,
};
use proptest::prelude::*;
use serde_json::Value;

fn vectors() -> Value {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../vectors/crypto-vectors.json"
    );
    let text = std::fs::read_to_string(path).expect("read vectors/crypto-vectors.json");
    serde_json::from_str(&text).expect("parse crypto-vectors.json")
}

fn section<'a>(v: &'a Value, name: &str) -> &'a Vec<Value> {
    v[name]
        .as_array()
        .unwrap_or_else(|| panic!("section {name}"))
}

fn s<'a>(v: &'a Value, field: &str) -> &'a str {
    v[field]
        .as_str()
        .unwrap_or_else(|| panic!("string field {field} in {v}"))
}

fn bytes(text: &str) -> Vec<u8> {
    hex::decode(text).unwrap_or_else(|_| panic!("hex {text}"))
}

fn arr<const N: usize>(text: &str) -> [u8; N] {
    bytes(text)
        .try_into()
        .unwrap_or_else(|_| panic!("{text} is not {N} bytes"))
}

fn key(text: &str) -> TdesKey {
    TdesKey::from_hex(text).unwrap()
}

fn psn(v: &Value) -> u8 {
    match &v["psn"] {
        Value::Null => 0x00,
        Value::String(t) => arr::<1>(t)[0],
        other => panic!("psn {other}"),
    }
}

/// Checks the leftmost bytes of the key's KCV against `expected` (hex).
fn check_kcv(key: &TdesKey, expected: &str, what: &str) {
    let want = bytes(expected);
    assert_eq!(key.kcv()[..want.len()], want[..], "KCV of {what}");
}

fn hex_up(b: &[u8]) -> String {
    hex::encode_upper(b)
}

#[test]
fn key_derivation_vectors() {
    let v = vectors();
    let entries = section(&v, "key_derivation");
    let (mut done, mut checks) = (0, 0);
    for e in entries {
        let id = s(e, "id");
        let i = &e["inputs"];
        let x = &e["expected"];
        let derived = match s(e, "kind") {
            "icc_mk_option_a" => {
                derive_icc_mk_option_a(&key(s(i, "imk")), s(i, "pan"), psn(i)).unwrap()
            }
            "icc_mk_option_b" => {
                derive_icc_mk_option_b(&key(s(i, "imk")), s(i, "pan"), psn(i)).unwrap()
            }
            "icc_mk_option_a_and_b" => {
                let a = derive_icc_mk_option_a(&key(s(i, "imk")), s(i, "pan"), psn(i)).unwrap();
                let b = derive_icc_mk_option_b(&key(s(i, "imk")), s(i, "pan"), psn(i)).unwrap();
                assert_eq!(a, b, "{id}: option A and B differ");
                a
            }
            "common_session_key" => common_session_key(&key(s(i, "mk")), &arr(s(i, "r"))),
            "mastercard_skd" => {
                let atc: [u8; 2] = arr(s(i, "atc"));
                let un: [u8; 4] = arr(s(i, "un"));
                let mut r = atc.to_vec();
                r.extend_from_slice(&[0, 0]);
                r.extend_from_slice(&un);
                assert_eq!(hex_up(&r), s(i, "r"), "{id}: R layout");
                let mk = key(s(i, "mk"));
                let sk = mastercard_skd_session_key(&mk, atc, un);
                assert_eq!(sk, common_session_key(&mk, &arr(s(i, "r"))));
                sk
            }
            "visa_sm_session_key" => visa_sm_session_key(&key(s(i, "mk")), arr(s(i, "atc"))),
            "emv2000_tree_session_key" => emv2000_tree_session_key(
                &key(s(i, "mk")),
                arr(s(i, "atc")),
                u8::try_from(i["branch_factor"].as_u64().unwrap()).unwrap(),
                u8::try_from(i["height"].as_u64().unwrap()).unwrap(),
                &arr(s(i, "iv")),
            )
            .unwrap(),
            other => panic!("{id}: unknown kind {other}"),
        };
        let full = x.get("icc_mk").or_else(|| x.get("sk")).unwrap();
        assert_eq!(derived, key(full.as_str().unwrap()), "{id}");
        checks += 1;
        if let Some(kcv) = x.get("kcv") {
            check_kcv(&derived, kcv.as_str().unwrap(), id);
            checks += 1;
        }
        done += 1;
    }
    assert_eq!(done, entries.len());
    assert_eq!(done, 9, "key_derivation entries");
    assert_eq!(checks, 12, "key_derivation expected values");
}

#[test]
fn application_cryptogram_vectors() {
    let v = vectors();
    let entries = section(&v, "application_cryptogram");
    let (mut done, mut checks) = (0, 0);
    for e in entries {
        let id = s(e, "id");
        let i = &e["inputs"];
        let expected = s(e, "expected");
        let got = match s(e, "kind") {
            "ac" => {
                assert_eq!(s(i, "padding"), "method_2", "{id}");
                let data = bytes(s(i, "data"));
                if let Some(fields) = i.get("data_fields") {
                    let input = ac_input(fields, vec![]);
                    assert_eq!(input.standard_data(), data, "{id}: AcInput layout");
                    checks += 1;
                }
                application_cryptogram(&key(s(i, "sk")), &data, Padding::Method2).to_vec()
            }
            "arpc_method_1" => {
                arpc_method_1(&key(s(i, "key")), &arr(s(i, "arqc")), arr(s(i, "arc"))).to_vec()
            }
            "arpc_method_2" => {
                let prop = i
                    .get("prop_auth_data")
                    .map_or(vec![], |p| bytes(p.as_str().unwrap()));
                arpc_method_2(
                    &key(s(i, "key")),
                    &arr(s(i, "arqc")),
                    arr(s(i, "csu")),
                    &prop,
                )
                .unwrap()
                .to_vec()
            }
            other => panic!("{id}: unknown kind {other}"),
        };
        assert_eq!(hex_up(&got), expected, "{id}");
        checks += 1;
        done += 1;
    }
    assert_eq!(done, entries.len());
    assert_eq!(done, 6, "application_cryptogram entries");
    assert_eq!(checks, 7, "application_cryptogram expected values");
}

/// The ten standard fields of a vector, plus `iad`.
fn ac_input(fields: &Value, iad: Vec<u8>) -> AcInput {
    AcInput {
        amount_authorised: arr(s(fields, "9F02")),
        amount_other: arr(s(fields, "9F03")),
        terminal_country_code: arr(s(fields, "9F1A")),
        tvr: arr(s(fields, "95")),
        transaction_currency_code: arr(s(fields, "5F2A")),
        transaction_date: arr(s(fields, "9A")),
        transaction_type: arr::<1>(s(fields, "9C"))[0],
        unpredictable_number: arr(s(fields, "9F37")),
        aip: arr(s(fields, "82")),
        atc: arr(s(fields, "9F36")),
        iad,
    }
}

fn cvn_for(id: &str) -> Cvn {
    match id {
        "CVN-VISA-10" => Cvn::Visa10,
        "CVN-VISA-18" | "CVN-VISA-18-DOC" => Cvn::Visa18,
        "CVN-VISA-22" => Cvn::Visa22,
        "CVN-MC-16" => Cvn::Mastercard16,
        "CVN-MC-17" => Cvn::Mastercard17,
        "CVN-MC-20" => Cvn::Mastercard20,
        "CVN-MC-21" => Cvn::Mastercard21,
        "CVN-INTERAC-133" => Cvn::Interac133,
        other => panic!("no CVN for vector {other}"),
    }
}

/// Builds the IAD the card would return from the vector's card data. Visa
/// CVN 10 and M/Chip vectors give only the bytes that enter the AC; the
/// rest is filled so that a wrong extraction would show.
fn iad_for(cvn: Cvn, card_data: &Value) -> Vec<u8> {
    let obj = card_data.as_object().unwrap();
    assert_eq!(obj.len(), 1);
    let (label, value) = obj.iter().next().unwrap();
    let data = bytes(value.as_str().unwrap());
    if label.starts_with("iad (9F10)") {
        data
    } else if label.starts_with("cvr (IAD bytes 4-7") {
        // Length, derivation key index, CVN, CVR (03 + 3 bytes).
        let mut iad = vec![0x06, 0x01, cvn.number()];
        iad.extend_from_slice(&data);
        iad
    } else if label.starts_with("cvr (IAD bytes 3-8)") {
        // DKI, CVN, CVR (6), DAC (2), counters (8, not in the AC).
        let mut iad = vec![0x01, cvn.number()];
        iad.extend_from_slice(&data);
        iad.extend_from_slice(&[0xDA, 0xC0, 0xEE, 0xEE, 0xEE, 0xEE, 0xEE, 0xEE, 0xEE, 0xEE]);
        iad
    } else if label.starts_with("cvr + counters") {
        assert_eq!(data.len(), 14);
        let mut iad = vec![0x01, cvn.number()];
        iad.extend_from_slice(&data[..6]);
        iad.extend_from_slice(&[0xDA, 0xC0]);
        iad.extend_from_slice(&data[6..]);
        iad
    } else {
        panic!("unknown card data {label}");
    }
}

#[test]
fn cvn_end_to_end_vectors() {
    let v = vectors();
    let entries = section(&v, "cvn_end_to_end");
    let (mut done, mut checks) = (0, 0);
    for e in entries {
        let id = s(e, "id");
        let cvn = cvn_for(id);
        let recipe = cvn.recipe();
        let i = &e["inputs"];
        let x = &e["expected"];

        // The recipe matches what the vector says.
        let ac_key = s(i, "ac_session_key");
        let want_ac_key = if ac_key.starts_with("ICC MK") {
            AcKeySource::IccMasterKey
        } else if ac_key.starts_with("EMV CSK") {
            AcKeySource::CommonSessionKey
        } else if ac_key.starts_with("Mastercard SKD") {
            AcKeySource::MastercardSkd
        } else {
            panic!("{id}: {ac_key}")
        };
        assert_eq!(recipe.ac_key, want_ac_key, "{id}");
        let want_padding = match s(i, "ac_padding") {
            "method_1" => Padding::Method1,
            "method_2" => Padding::Method2,
            other => panic!("{id}: {other}"),
        };
        assert_eq!(recipe.padding, want_padding, "{id}");
        let arpc_spec = s(&i["arpc"], "method");
        let (want_method, response) = if arpc_spec.starts_with('1') {
            let arc = arr::<2>(s(&i["arpc"], "arc"));
            (ArpcMethod::Method1, ArpcInput::Method1 { arc })
        } else if arpc_spec.starts_with('2') {
            let csu = arr::<4>(s(&i["arpc"], "csu"));
            let prop_auth_data = i["arpc"]
                .get("prop_auth_data")
                .map_or(vec![], |p| bytes(p.as_str().unwrap()));
            (
                ArpcMethod::Method2,
                ArpcInput::Method2 {
                    csu,
                    prop_auth_data,
                },
            )
        } else {
            panic!("{id}: {arpc_spec}")
        };
        assert_eq!(recipe.arpc_method, want_method, "{id}");
        let want_arpc_key = if arpc_spec.contains("ICC MK") {
            ArpcKeySource::IccMasterKey
        } else if arpc_spec.contains("AC session key") {
            ArpcKeySource::AcSessionKey
        } else {
            panic!("{id}: {arpc_spec}")
        };
        assert_eq!(recipe.arpc_key, want_arpc_key, "{id}");
        let sm = &i["script_mac"];
        let sm_key = s(sm, "key");
        let want_sm_key = if sm_key.starts_with("Visa SM session key") {
            ScriptMacKeySource::VisaSessionKey
        } else if sm_key.contains("R = ARQC") {
            ScriptMacKeySource::CommonSessionKeyArqc
        } else {
            panic!("{id}: {sm_key}")
        };
        assert_eq!(recipe.script_mac_key, want_sm_key, "{id}");
        let want_sm_input = match s(sm, "mac_input") {
            "header || ATC || ARQC (padding method 2)" => ScriptMacInput::HeaderAtcArqcData,
            "header only (padding method 2)" => ScriptMacInput::HeaderAndData,
            other => panic!("{id}: {other}"),
        };
        assert_eq!(recipe.script_mac_input, want_sm_input, "{id}");

        // Keys.
        let imks = IssuerMasterKeys {
            ac: key(s(i, "imk_ac")),
            smi: key(s(i, "imk_smi")),
            smc: key(s(i, "imk_smc")),
        };
        let keys = cvn.derive_icc_keys(&imks, s(i, "pan"), psn(i)).unwrap();
        let input = ac_input(
            &i["terminal_and_card_fields"],
            iad_for(cvn, &i["card_data"]),
        );
        let session = SessionContext::from(&input);
        for (field, k) in [
            ("icc_mk_ac_kcv", &keys.ac),
            ("icc_mk_smi_kcv", &keys.smi),
            ("icc_mk_smc_kcv", &keys.smc),
        ] {
            if let Some(kcv) = x.get(field) {
                check_kcv(k, kcv.as_str().unwrap(), &format!("{id} {field}"));
                checks += 1;
            }
        }
        if let Some(kcv) = x.get("ac_key_kcv") {
            check_kcv(&cvn.ac_key(&keys, &session), kcv.as_str().unwrap(), id);
            checks += 1;
        }

        // AC data and ARQC.
        assert_eq!(
            hex_up(&cvn.ac_data(&input).unwrap()),
            s(i, "ac_data"),
            "{id}"
        );
        let arqc = cvn.application_cryptogram(&keys, &input).unwrap();
        assert_eq!(hex_up(&arqc), s(x, "arqc"), "{id} ARQC");
        assert!(
            cvn.verify_application_cryptogram(&keys, &input, &arqc)
                .unwrap()
        );
        checks += 1;

        // ARPC, tag 91.
        let tag91 = cvn.arpc(&keys, &session, &arqc, &response).unwrap();
        let expected_arpc = bytes(s(x, "arpc"));
        let (arpc, rest) = tag91.split_at(expected_arpc.len());
        assert_eq!(hex_up(arpc), s(x, "arpc"), "{id} ARPC");
        match &response {
            ArpcInput::Method1 { arc } => assert_eq!(rest, arc),
            ArpcInput::Method2 {
                csu,
                prop_auth_data,
            } => {
                assert_eq!(&rest[..4], csu);
                assert_eq!(&rest[4..], &prop_auth_data[..]);
            }
        }
        assert!(cvn.verify_arpc(&keys, &session, &arqc, &tag91), "{id}");
        checks += 1;

        // Script command MAC.
        let header = bytes(s(sm, "command_header"));
        let mac = cvn.script_mac(&keys, input.atc, &arqc, &header).unwrap();
        assert_eq!(hex_up(&mac), s(x, "script_command_mac"), "{id} script MAC");
        assert!(cvn.verify_script_mac(&keys, input.atc, &arqc, &header, &mac));
        checks += 1;
        done += 1;
    }
    assert_eq!(done, entries.len());
    assert_eq!(done, 9, "cvn_end_to_end entries");
    // 8 entries × (3 MK KCVs + AC key KCV + ARQC + ARPC + script MAC) + 3.
    assert_eq!(checks, 59, "cvn_end_to_end expected values");
}

#[test]
fn mk_sk_ac_chain_vectors() {
    let v = vectors();
    let entries = section(&v, "mk_sk_ac_chains");
    let (mut done, mut checks) = (0, 0);
    for e in entries {
        let id = s(e, "id");
        let i = &e["inputs"];
        let x = &e["expected"];
        let option = match s(i, "mk_option") {
            "A" => KeyDerivation::OptionA,
            "B" => KeyDerivation::OptionB,
            other => panic!("{id}: {other}"),
        };
        let mk = derive_icc_mk(&key(s(i, "imk")), s(i, "pan"), psn(i), option).unwrap();
        assert_eq!(mk, key(s(e, "recomputed_icc_mk")), "{id} MK");
        checks += 1;
        if let Some(kcv) = x.get("icc_mk_kcv") {
            check_kcv(&mk, kcv.as_str().unwrap(), id);
            checks += 1;
        }
        let sk = common_session_key(&mk, &arr(s(i, "session_key_r")));
        assert_eq!(sk, key(s(e, "recomputed_session_key")), "{id} SK");
        check_kcv(&sk, s(x, "session_key_kcv"), id);
        checks += 2;
        assert_eq!(s(i, "ac_padding"), "method_2");
        let arqc = application_cryptogram(&sk, &bytes(s(i, "ac_data")), Padding::Method2);
        assert_eq!(hex_up(&arqc), s(x, "arqc"), "{id} ARQC");
        checks += 1;
        let arpc_key = match s(i, "arpc_key") {
            "icc_mk" => &mk,
            "session_key" => &sk,
            other => panic!("{id}: {other}"),
        };
        let arpc = match s(i, "arpc_method") {
            "1" => arpc_method_1(arpc_key, &arqc, arr(s(i, "arc"))).to_vec(),
            "2" => {
                let prop = i
                    .get("prop_auth_data")
                    .map_or(vec![], |p| bytes(p.as_str().unwrap()));
                arpc_method_2(arpc_key, &arqc, arr(s(i, "csu")), &prop)
                    .unwrap()
                    .to_vec()
            }
            other => panic!("{id}: {other}"),
        };
        assert_eq!(hex_up(&arpc), s(x, "arpc"), "{id} ARPC");
        checks += 1;
        done += 1;
    }
    assert_eq!(done, entries.len());
    assert_eq!(done, 8, "mk_sk_ac_chains entries");
    // 8 × (MK, SK, SK KCV, ARQC, ARPC) + 7 MK KCVs.
    assert_eq!(checks, 47, "mk_sk_ac_chains expected values");
}

fn arb_key() -> impl Strategy<Value = TdesKey> {
    any::<[u8; 16]>().prop_map(TdesKey::new)
}

fn arb_response() -> impl Strategy<Value = ArpcInput> {
    prop_oneof![
        any::<[u8; 2]>().prop_map(|arc| ArpcInput::Method1 { arc }),
        (
            any::<[u8; 4]>(),
            proptest::collection::vec(any::<u8>(), 0..=8)
        )
            .prop_map(|(csu, prop_auth_data)| ArpcInput::Method2 {
                csu,
                prop_auth_data
            }),
    ]
}

proptest! {
    #[test]
    fn arpc_verifies_and_one_bit_breaks_it(
        cvn_index in 0usize..Cvn::ALL.len(),
        ac in arb_key(), smi in arb_key(), smc in arb_key(),
        atc in any::<[u8; 2]>(), un in any::<[u8; 4]>(), arqc in any::<[u8; 8]>(),
        response in arb_response(),
        bit in any::<usize>(),
    ) {
        let cvn = Cvn::ALL[cvn_index];
        let keys = IccKeys { ac, smi, smc };
        let session = SessionContext { atc, unpredictable_number: un };
        let response = match (cvn.recipe().arpc_method, response) {
            (ArpcMethod::Method1, ArpcInput::Method2 { csu, .. }) => {
                ArpcInput::Method1 { arc: [csu[0], csu[1]] }
            }
            (ArpcMethod::Method2, ArpcInput::Method1 { arc }) => ArpcInput::Method2 {
                csu: [arc[0], arc[1], 0, 0],
                prop_auth_data: vec![],
            },
            (_, r) => r,
        };
        let tag91 = cvn.arpc(&keys, &session, &arqc, &response).unwrap();
        prop_assert!(cvn.verify_arpc(&keys, &session, &arqc, &tag91));
        let bit = bit % (tag91.len() * 8);
        let mut flipped = tag91.clone();
        flipped[bit / 8] ^= 1 << (bit % 8);
        prop_assert!(!cvn.verify_arpc(&keys, &session, &arqc, &flipped));
        let mut other_arqc = arqc;
        other_arqc[bit % 8] ^= 1 << (bit % 7);
        prop_assert!(!cvn.verify_arpc(&keys, &session, &other_arqc, &tag91));
    }

    #[test]
    fn script_mac_verifies_and_one_bit_breaks_it(
        cvn_index in 0usize..Cvn::ALL.len(),
        ac in arb_key(), smi in arb_key(), smc in arb_key(),
        atc in any::<[u8; 2]>(), arqc in any::<[u8; 8]>(),
        header in any::<[u8; 4]>(),
        data in proptest::collection::vec(any::<u8>(), 0..40),
        bit in any::<usize>(),
    ) {
        let cvn = Cvn::ALL[cvn_index];
        let keys = IccKeys { ac, smi, smc };
        let mut command = header.to_vec();
        command.push(u8::try_from(data.len() + 8).unwrap());
        command.extend_from_slice(&data);
        let mac = cvn.script_mac(&keys, atc, &arqc, &command).unwrap();
        prop_assert!(cvn.verify_script_mac(&keys, atc, &arqc, &command, &mac));
        let mut flipped = mac;
        flipped[bit % 8] ^= 1 << (bit / 8 % 8);
        prop_assert!(!cvn.verify_script_mac(&keys, atc, &arqc, &command, &flipped));
        let mut changed = command.clone();
        let at = bit % changed.len();
        if at != 4 {
            changed[at] ^= 1 << (bit / 64 % 8);
            prop_assert!(!cvn.verify_script_mac(&keys, atc, &arqc, &changed, &mac));
        }
    }
}
