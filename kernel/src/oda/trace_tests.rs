//! The whole ODA chain against a public trace: `mock-msc-offline.json`
//! (contactless Mastercard, CDA, signed by the Mastercard **test** CA `F3`).
//! The APDUs are copied here as hex; the CA key is the published test key.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

extern crate std;

use std::vec::Vec;

use super::test_support::{MC_F3_MODULUS, hex};
use super::*;
use crate::crypto::SoftwareCrypto;
use crate::wire::tlv::Mode;
use crate::wire::walk::find;

const MC_RID: [u8; 5] = [0xA0, 0x00, 0x00, 0x00, 0x04];

/// READ RECORD SFI 2 record 1: the only ODA record (AFL `10 01 01 01`).
const REC_2_1: &str = "7081BC57125413339000001513D20122010000000000005A0854133390000015
135F24032012315F25030601015F280202505F3401018C279F02069F03069F1A
0295055F2A029A039C019F37049F35019F45029F4C089F34039F21039F7C148D
12910A8A0295059F37049F4C089F02069F03068E0A00000000000000001F039F
0702FF009F080200029F0D05F8406420009F0E0500108800009F0F05F86064F8
009F420209789F51039F37049F5B0CDF6008DF6108DF6201DF63A09F4A0182";
/// SFI 3 record 1: 8F, 9F32, 92, 90.
const REC_3_1: &str = "7081C08F01F39F3201039224EFF4A554A084A829B0D6D5ACCC34B84C262B3243
6ABDAC9899308D51E57C83DF6908C38990819021EC0FC6E1810DFEEA26545127
494B40F5F12FA8670877C4B47516BBCD67EDF5F0652B437B4D3E4E83999E7B82
45E2A18A7968E7C3E1C16B5609036E65E0F4AF2C4383AF19F1679DD59726C5D3
15B21967F5A3E526E645724B61F4C8ABCE98BEB8DF1FD64237DBE356B1F96C73
EBA3206AAA4C818518E58E17F0E4265A0A5D7E2196E983C6DA78FC5C73F64E6F
3AFF5A";
/// SFI 3 record 2: 93.
const REC_3_2: &str = "70819393819071E2614A46A3A653425C29A168FF718379C8B3F82DACDA4F781A
07D57E239AF9713892F17DA70EF9DCD31051D9EB4E352EF0ACE7D820DFA75A4D
0FB0237D01F361FC290EBAFF1DF1696899FAB7D9E478B7AC58212D04328E2E88
76D1723D250E6186CAFC8338F8FDBA8E19ADF72A84E549892967A1549DD4ACB1
33ACB2A791A68E1A2ABFF20FCB278F9314C03FE60CD5";
/// SFI 4 record 1: 9F47, 9F48.
const REC_4_1: &str = "70219F4701039F481AD529BCACA7F9ECEADE85990F1E04FEAE9FA033DF691268
F9F2D5";
/// SFI 4 record 2: 9F46.
const REC_4_2: &str = "7081949F4681904D05000EBF47E8F9F2A66D769CC1D3AA7E2A888A697ABBBB61
1053557FDC98597AB433CFD325942F1269892B4F1009547AE0A5BDB85442CA10
D2167FFDA67995F357770F370DB60035F32F3F01F353EC26DC83C36F32B18848
363C64EAECDDE93E2770E66CBC14E530FDD7A036B88270366383E9C95EF44C9B
640C93B6181F6DB4756B140BE65BE084E7C379F0060DFD";
/// AIP from the GPO response (`82 02 5980`); 9F4A = 82 puts it in the
/// static data.
const AIP: [u8; 2] = [0x59, 0x80];
/// PDOL data of GPO (`83 0D …`): 9F5C (8) and 9F40 (5).
const PDOL_DATA: &str = "0000000000000000 6000F00001";
/// GENERATE AC (P1 50: TC + CDA) command data: the CDOL1 data.
const CDOL1_DATA: &str = "0000000000010000000000000056000000000109781908190033BCA47D260000
00000000000000001F03020000000000000000000000000000000000000000000000";
/// GENERATE AC response data.
const GENAC_RESPONSE: &str = "7781AA9F2701409F360202E09F4B81804D0605626698777BCC72E20DBE5C631C
1372FB8B3EAB4DC8B06EFB7FE253A527000B8D7887C300232BC4849ED7DEAF3C
6B260464190EF085B9663A0437C1FEA159F7F7C03F80D8A5CE5A52C8AE0BD702
A94E84FE5D06B2DFAF3DA0750F3D5E5B0FAEC66A83DBEEDF22BAAD53FFD220F3
14A8C12A646C4BFDB296D71A0065B28F9F101A2210904203A400000000000000
024355FFFF00000000000000FF";
/// Unpredictable number of the trace (`randoms`).
const UN: [u8; 4] = [0x33, 0xBC, 0xA4, 0x7D];
/// Transaction date of the trace (`date`: 190819).
const DATE_9A: [u8; 3] = [0x19, 0x08, 0x19];

fn value(record: &[u8], tag: u32) -> Vec<u8> {
    find(record, crate::Tag::new(tag), Mode::Strict)
        .unwrap()
        .unwrap()
        .value()
        .to_vec()
}

struct Trace {
    capk_modulus: Vec<u8>,
    rec_2_1: Vec<u8>,
    rec_3_1: Vec<u8>,
    rec_3_2: Vec<u8>,
    rec_4_1: Vec<u8>,
    rec_4_2: Vec<u8>,
}

impl Trace {
    fn new() -> Self {
        Self {
            capk_modulus: hex(MC_F3_MODULUS),
            rec_2_1: hex(REC_2_1),
            rec_3_1: hex(REC_3_1),
            rec_3_2: hex(REC_3_2),
            rec_4_1: hex(REC_4_1),
            rec_4_2: hex(REC_4_2),
        }
    }

    fn capk(&self) -> Capk<'_> {
        Capk {
            rid: MC_RID,
            index: 0xF3,
            modulus: &self.capk_modulus,
            exponent: &[3],
            expiry: None,
        }
    }
}

#[test]
fn full_cda_chain_of_a_public_trace() {
    let t = Trace::new();
    let p = SoftwareCrypto;
    let today = date_from_9a(&DATE_9A).unwrap();
    assert_eq!(today, (2019, 8));
    let keys = [t.capk()];
    let store = StaticCapkStore {
        keys: &keys,
        revoked: &[],
    };
    let pan = value(&t.rec_2_1, 0x5A);
    assert_eq!(pan, hex("5413339000001513"));
    assert_eq!(
        sda_tag_list_includes_aip(&value(&t.rec_2_1, 0x9F4A)),
        Ok(true)
    );
    let ca_index = value(&t.rec_3_1, 0x8F)[0];
    assert_eq!(ca_index, 0xF3);

    // Issuer public key.
    let cert_90 = value(&t.rec_3_1, 0x90);
    let rem_92 = value(&t.rec_3_1, 0x92);
    let exp_9f32 = value(&t.rec_3_1, 0x9F32);
    let issuer_cert = IssuerCertificate {
        rid: MC_RID,
        ca_index,
        certificate: &cert_90,
        remainder: &rem_92,
        exponent: &exp_9f32,
    };
    let mut issuer_modulus = [0u8; 248];
    let issuer =
        recover_issuer_public_key(&p, &store, &issuer_cert, &pan, today, &mut issuer_modulus)
            .unwrap();
    assert_eq!(issuer.modulus_len, 144);
    assert_eq!(issuer.issuer_identifier, [0x54, 0x13, 0x33, 0x90]);
    assert_eq!(issuer.expiry, (2020, 12));
    assert_eq!(issuer.serial, [0, 0, 1]);
    let issuer_key = issuer.public_key(&issuer_modulus);

    // SDA: the static data is the value of the SFI 2 record plus the AIP.
    let static_record = static_data_of_record(2, &t.rec_2_1).unwrap();
    let ssad_93 = value(&t.rec_3_2, 0x93);
    assert_eq!(
        verify_static_data(&p, issuer_key, &ssad_93, &[static_record, &AIP]),
        Ok([0xDA, 0xC0])
    );

    // ICC public key.
    let icc_cert = IccCertificate {
        certificate: &value(&t.rec_4_2, 0x9F46),
        remainder: &value(&t.rec_4_1, 0x9F48),
        exponent: &value(&t.rec_4_1, 0x9F47),
    };
    let mut icc_modulus = [0u8; 248];
    let icc = recover_icc_public_key(
        &p,
        issuer_key,
        &icc_cert,
        &[static_record, &AIP],
        &pan,
        today,
        &mut icc_modulus,
    )
    .unwrap();
    assert_eq!(icc.modulus_len, 128);
    assert_eq!(icc.expiry, (2020, 12));
    assert_eq!(icc.serial, [0, 0, 1]);
    let icc_key = icc.public_key(&icc_modulus);

    // CDA on the GENERATE AC response.
    let response = hex(GENAC_RESPONSE);
    let r = CdaResponse::parse(&response).unwrap();
    assert_eq!((r.cid, r.atc), (0x40, [0x02, 0xE0]));
    let tdhc =
        transaction_data_hash_code(&p, &hex(PDOL_DATA), &hex(CDOL1_DATA), None, &response).unwrap();
    assert_eq!(
        tdhc.to_vec(),
        hex("BA5E366ECCF04ACFB0D23E4A057B6A4D0C5B33A0")
    );
    let cda = verify_cda(&p, icc_key, r.sdad, UN, r.cid, &tdhc).unwrap();
    assert_eq!(cda.cid, 0x40);
    assert_eq!(cda.ac, [0x49, 0xC2, 0x7A, 0x9F, 0x8E, 0x4B, 0xF5, 0x38]);
    assert_eq!(cda.idn.as_bytes(), &hex("AB803A04B0BCA313")[..]);

    // The same CDA signature as DDA over the UN: its hash covers the UN only.
    assert_eq!(
        verify_dda(&p, icc_key, r.sdad, &UN).unwrap().as_bytes(),
        cda.idn.as_bytes()
    );

    // Streaming forms give the same answers.
    let mut ssad_check = begin_static_data(&p, issuer_key, &ssad_93).unwrap();
    for chunk in static_record.chunks(7) {
        ssad_check.update(chunk);
    }
    ssad_check.update(&AIP);
    assert_eq!(ssad_check.finish(), Ok([0xDA, 0xC0]));
    let mut buf = [0u8; 248];
    let mut icc_check = begin_icc_public_key(&p, issuer_key, &icc_cert, &mut buf).unwrap();
    icc_check.update(static_record);
    icc_check.update(&AIP);
    assert_eq!(icc_check.finish(&pan, today), Ok(icc));
    assert_eq!(buf, icc_modulus);
}

#[test]
fn trace_chain_rejections() {
    let t = Trace::new();
    let p = SoftwareCrypto;
    let today = (2019, 8);
    let keys = [t.capk()];
    let store = StaticCapkStore {
        keys: &keys,
        revoked: &[],
    };
    let pan = value(&t.rec_2_1, 0x5A);
    let cert_90 = value(&t.rec_3_1, 0x90);
    let rem_92 = value(&t.rec_3_1, 0x92);
    let cert = IssuerCertificate {
        rid: MC_RID,
        ca_index: 0xF3,
        certificate: &cert_90,
        remainder: &rem_92,
        exponent: &[3],
    };
    let mut out = [0u8; 248];
    // Unknown index, expired certificate (12/20), revoked serial.
    assert_eq!(
        recover_issuer_public_key(
            &p,
            &store,
            &IssuerCertificate {
                ca_index: 0xF1,
                ..cert
            },
            &pan,
            today,
            &mut out
        ),
        Err(OdaError::CapkMissing {
            rid: MC_RID,
            index: 0xF1
        })
    );
    assert_eq!(
        recover_issuer_public_key(&p, &store, &cert, &pan, (2021, 1), &mut out),
        Err(OdaError::Expired)
    );
    assert!(recover_issuer_public_key(&p, &store, &cert, &pan, (2020, 12), &mut out).is_ok());
    let revoked = [(MC_RID, 0xF3, [0, 0, 1])];
    let revoking = StaticCapkStore {
        keys: &keys,
        revoked: &revoked,
    };
    assert_eq!(
        recover_issuer_public_key(&p, &revoking, &cert, &pan, today, &mut out),
        Err(OdaError::Revoked)
    );
    // Another PAN; another issuer.
    let mut other_pan = pan.clone();
    other_pan[3] = 0x91;
    assert_eq!(
        recover_issuer_public_key(&p, &store, &cert, &other_pan, today, &mut out),
        Err(OdaError::IssuerIdMismatch)
    );
    // Flipped bits in the certificate or the remainder.
    let mut bad = cert_90.clone();
    bad[40] ^= 0x01;
    assert!(
        recover_issuer_public_key(
            &p,
            &store,
            &IssuerCertificate {
                certificate: &bad,
                ..cert
            },
            &pan,
            today,
            &mut out
        )
        .is_err()
    );
    let mut bad_rem = rem_92.clone();
    bad_rem[0] ^= 0x01;
    assert_eq!(
        recover_issuer_public_key(
            &p,
            &store,
            &IssuerCertificate {
                remainder: &bad_rem,
                ..cert
            },
            &pan,
            today,
            &mut out
        ),
        Err(OdaError::Hash)
    );
    assert_eq!(
        recover_issuer_public_key(
            &p,
            &store,
            &IssuerCertificate {
                remainder: &[],
                ..cert
            },
            &pan,
            today,
            &mut out
        ),
        Err(OdaError::RemainderMissing)
    );

    // A tampered record fails the SSAD and the ICC certificate.
    let issuer = recover_issuer_public_key(&p, &store, &cert, &pan, today, &mut out).unwrap();
    let issuer_key = issuer.public_key(&out);
    let mut record = static_data_of_record(2, &t.rec_2_1).unwrap().to_vec();
    record[30] ^= 0x01;
    let ssad_93 = value(&t.rec_3_2, 0x93);
    assert_eq!(
        verify_static_data(&p, issuer_key, &ssad_93, &[&record, &AIP]),
        Err(OdaError::Hash)
    );
    let static_record = static_data_of_record(2, &t.rec_2_1).unwrap();
    assert_eq!(
        verify_static_data(&p, issuer_key, &ssad_93, &[static_record]),
        Err(OdaError::Hash),
        "AIP left out"
    );
    let icc_cert = IccCertificate {
        certificate: &value(&t.rec_4_2, 0x9F46),
        remainder: &value(&t.rec_4_1, 0x9F48),
        exponent: &value(&t.rec_4_1, 0x9F47),
    };
    let mut icc_out = [0u8; 248];
    assert_eq!(
        recover_icc_public_key(
            &p,
            issuer_key,
            &icc_cert,
            &[&record, &AIP],
            &pan,
            today,
            &mut icc_out
        ),
        Err(OdaError::Hash)
    );
    let mut wrong_pan = pan.clone();
    wrong_pan[7] = 0x14;
    assert_eq!(
        recover_icc_public_key(
            &p,
            issuer_key,
            &icc_cert,
            &[static_record, &AIP],
            &wrong_pan,
            today,
            &mut icc_out
        ),
        Err(OdaError::PanMismatch)
    );
    let icc = recover_icc_public_key(
        &p,
        issuer_key,
        &icc_cert,
        &[static_record, &AIP],
        &pan,
        today,
        &mut icc_out,
    )
    .unwrap();
    let icc_key = icc.public_key(&icc_out);

    // CDA: another UN, another CID, a CDOL1 byte changed.
    let response = hex(GENAC_RESPONSE);
    let r = CdaResponse::parse(&response).unwrap();
    let tdhc =
        transaction_data_hash_code(&p, &hex(PDOL_DATA), &hex(CDOL1_DATA), None, &response).unwrap();
    assert_eq!(
        verify_cda(&p, icc_key, r.sdad, [0x33, 0xBC, 0xA4, 0x7E], r.cid, &tdhc),
        Err(OdaError::Hash)
    );
    assert_eq!(
        verify_cda(&p, icc_key, r.sdad, UN, 0x80, &tdhc),
        Err(OdaError::CidMismatch {
            signed: 0x40,
            returned: 0x80
        })
    );
    let mut cdol1 = hex(CDOL1_DATA);
    cdol1[5] ^= 0x01;
    let other_tdhc =
        transaction_data_hash_code(&p, &hex(PDOL_DATA), &cdol1, None, &response).unwrap();
    assert_eq!(
        verify_cda(&p, icc_key, r.sdad, UN, r.cid, &other_tdhc),
        Err(OdaError::TransactionDataHash)
    );
    // The SDAD verified with the issuer key instead of the ICC key.
    assert!(matches!(
        verify_cda(&p, issuer_key, r.sdad, UN, r.cid, &tdhc),
        Err(OdaError::CertificateLength { .. })
    ));
}
