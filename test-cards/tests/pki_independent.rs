#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]
//! Independent verification of the test PKI (`emv_test_cards::pki`).
//!
//! Certificates and signatures made by the crate are recovered with the
//! `openssl` command line (raw RSA public operation, `pkeyutl -verifyrecover`
//! with no padding, the key passed as a hand-built DER SubjectPublicKeyInfo)
//! and checked field by field against EMV 4.4 Book 2 Tables 6, 7, 14 and 17
//! (header `6A`, format, hash algorithm, SHA-1 hash computed by
//! `openssl dgst`, trailer `BC`); a copy with one bit flipped must fail.
//!
//! The other direction: real certificate chains signed under the public
//! Mastercard test CAPKs F3 and EF verify with the crate's own functions and
//! recover with openssl. The data is copied below from the repository's
//! `vectors/traces/` (provenance and licences in `vectors/README.md`):
//! `k2-k3-mocks/mock-msc-offline.json` (Copyright 2019 Daniel Hu, BSD-style
//! notice) and `binaryfoo/contact-mastercard-in.txt` (MIT, Copyright (c) 2014
//! Will Currie); the CAPK moduli are the public test keys of emv-facts §4.
//!
//! Without an `openssl` binary the openssl parts are skipped with a message
//! on standard error, unless `EMV_REQUIRE_OPENSSL` is set, which makes them
//! fail instead (set it in CI).

use std::path::PathBuf;
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};

use emv_test_cards::pki::certificate::{
    IccCertificate, IssuerCertificate, issue_icc_certificate, issue_icc_pin_certificate,
    verify_icc_certificate, verify_icc_pin_certificate, verify_issuer_certificate,
};
use emv_test_cards::pki::signing::{
    sign_dynamic_data_cda, sign_dynamic_data_dda, sign_static_data, transaction_data_hash_code,
    verify_dynamic_data_cda, verify_dynamic_data_dda, verify_static_data,
};
use emv_test_cards::pki::{
    Capk, CertificateExpiry, Exponent, PROJECT_RID, PkiError, RsaKeyPair, RsaPublicKey, TestCa,
    capk, recover,
};

// ---------------------------------------------------------------------------
// Published data (see the module documentation for provenance).
// ---------------------------------------------------------------------------

const MC_RID: [u8; 5] = [0xA0, 0x00, 0x00, 0x00, 0x04];

/// Mastercard test CAPK F3 (1152 bits, exponent 03), published check sum A69AC7603DAF566E972DEDC2CB433E07E8B01A9A.
const MC_F3_MODULUS: &str = "\
    98F0C770F23864C2E766DF02D1E833DFF4FFE92D696E1642F0A88C5694C6479D\
    16DB1537BFE29E4FDC6E6E8AFD1B0EB7EA0124723C333179BF19E93F10658B2F\
    776E829E87DAEDA9C94A8B3382199A350C077977C97AFF08FD11310AC950A72C\
    3CA5002EF513FCCC286E646E3C5387535D509514B3B326E1234F9CB48C36DDD4\
    4B416D23654034A66F403BA511C5EFA3";
/// Mastercard test CAPK EF (1984 bits, exponent 03), published check sum 21766EBB0EE122AFB65D7845B73DB46BAB65427A.
const MC_EF_MODULUS: &str = "\
    A191CB87473F29349B5D60A88B3EAEE0973AA6F1A082F358D849FDDFF9C091F8\
    99EDA9792CAF09EF28F5D22404B88A2293EEBBC1949C43BEA4D60CFD879A1539\
    544E09E0F09F60F065B2BF2A13ECC705F3D468B9D33AE77AD9D3F19CA40F23DC\
    F5EB7C04DC8F69EBA565B1EBCB4686CD274785530FF6F6E9EE43AA43FDB02CE0\
    0DAEC15C7B8FD6A9B394BABA419D3F6DC85E16569BE8E76989688EFEA2DF22FF\
    7D35C043338DEAA982A02B866DE5328519EBBCD6F03CDD686673847F84DB651A\
    B86C28CF1462562C577B853564A290C8556D818531268D25CC98A4CC6A0BDFFF\
    DA2DCCA3A94C998559E307FDDF915006D9A987B07DDAEB3B";
/// Mastercard test CAPK F5 (1984 bits, exponent 010001), published check sum C2239804C8098170BE52D6D5D4159E81CE8466BF.
const MC_F5_MODULUS: &str = "\
    A6E6FB72179506F860CCCA8C27F99CECD94C7D4F3191D303BBEE37481C7AA15F\
    233BA755E9E4376345A9A67E7994BDC1C680BB3522D8C93EB0CCC91AD31AD450\
    DA30D337662D19AC03E2B4EF5F6EC18282D491E19767D7B24542DFDEFF6F6218\
    5503532069BBB369E3BB9FB19AC6F1C30B97D249EEE764E0BAC97F25C873D973\
    953E5153A42064BBFABFD06A4BB486860BF6637406C9FC36813A4A75F75C31CC\
    A9F69F8DE59ADECEF6BDE7E07800FCBE035D3176AF8473E23E9AA3DFEE221196\
    D1148302677C720CFE2544A03DB553E7F1B8427BA1CC72B0F29B12DFEF4C081D\
    076D353E71880AADFF386352AF0AB7B28ED49E1E672D11F9";

/// Tag 90 (issuer public key certificate, 144 bytes).
const F3_ISSUER_CERT: &str = "\
    21EC0FC6E1810DFEEA26545127494B40F5F12FA8670877C4B47516BBCD67EDF5\
    F0652B437B4D3E4E83999E7B8245E2A18A7968E7C3E1C16B5609036E65E0F4AF\
    2C4383AF19F1679DD59726C5D315B21967F5A3E526E645724B61F4C8ABCE98BE\
    B8DF1FD64237DBE356B1F96C73EBA3206AAA4C818518E58E17F0E4265A0A5D7E\
    2196E983C6DA78FC5C73F64E6F3AFF5A";
/// Tag 92 (36 bytes).
const F3_ISSUER_REMAINDER: &str = "\
    EFF4A554A084A829B0D6D5ACCC34B84C262B32436ABDAC9899308D51E57C83DF\
    6908C389";
/// Tag 93 (signed static application data, DAC DAC0).
const F3_SSAD: &str = "\
    71E2614A46A3A653425C29A168FF718379C8B3F82DACDA4F781A07D57E239AF9\
    713892F17DA70EF9DCD31051D9EB4E352EF0ACE7D820DFA75A4D0FB0237D01F3\
    61FC290EBAFF1DF1696899FAB7D9E478B7AC58212D04328E2E8876D1723D250E\
    6186CAFC8338F8FDBA8E19ADF72A84E549892967A1549DD4ACB133ACB2A791A6\
    8E1A2ABFF20FCB278F9314C03FE60CD5";
/// Tag 9F46 (ICC public key certificate, 144 bytes).
const F3_ICC_CERT: &str = "\
    4D05000EBF47E8F9F2A66D769CC1D3AA7E2A888A697ABBBB611053557FDC9859\
    7AB433CFD325942F1269892B4F1009547AE0A5BDB85442CA10D2167FFDA67995\
    F357770F370DB60035F32F3F01F353EC26DC83C36F32B18848363C64EAECDDE9\
    3E2770E66CBC14E530FDD7A036B88270366383E9C95EF44C9B640C93B6181F6D\
    B4756B140BE65BE084E7C379F0060DFD";
/// Tag 9F48 (26 bytes).
const F3_ICC_REMAINDER: &str = "D529BCACA7F9ECEADE85990F1E04FEAE9FA033DF691268F9F2D5";
/// The one ODA record (SFI 2 record 1, AFL 10 01 01 01), without its tag 70 and length.
const F3_ODA_RECORD: &str = "\
    57125413339000001513D20122010000000000005A0854133390000015135F24\
    032012315F25030601015F280202505F3401018C279F02069F03069F1A029505\
    5F2A029A039C019F37049F35019F45029F4C089F34039F21039F7C148D12910A\
    8A0295059F37049F4C089F02069F03068E0A00000000000000001F039F0702FF\
    009F080200029F0D05F8406420009F0E0500108800009F0F05F86064F8009F42\
    0209789F51039F37049F5B0CDF6008DF6108DF6201DF63A09F4A0182";
/// PDOL data of GET PROCESSING OPTIONS (value of tag 83).
const F3_PDOL_DATA: &str = "00000000000000006000F00001";
/// CDOL1 data of GENERATE AC (P1 50: TC with CDA).
const F3_CDOL1_DATA: &str = "\
    0000000000010000000000000056000000000109781908190033BCA47D260000\
    00000000000000001F0302000000000000000000000000000000000000000000\
    0000";
/// Value of the GENERATE AC response template 77 (9F27, 9F36, 9F4B, 9F10).
const F3_GENAC_TLVS: &str = "\
    9F2701409F360202E09F4B81804D0605626698777BCC72E20DBE5C631C1372FB\
    8B3EAB4DC8B06EFB7FE253A527000B8D7887C300232BC4849ED7DEAF3C6B2604\
    64190EF085B9663A0437C1FEA159F7F7C03F80D8A5CE5A52C8AE0BD702A94E84\
    FE5D06B2DFAF3DA0750F3D5E5B0FAEC66A83DBEEDF22BAAD53FFD220F314A8C1\
    2A646C4BFDB296D71A0065B28F9F101A2210904203A400000000000000024355\
    FFFF00000000000000FF";
/// Tag 9F4B (signed dynamic application data, 128 bytes).
const F3_SDAD: &str = "\
    4D0605626698777BCC72E20DBE5C631C1372FB8B3EAB4DC8B06EFB7FE253A527\
    000B8D7887C300232BC4849ED7DEAF3C6B260464190EF085B9663A0437C1FEA1\
    59F7F7C03F80D8A5CE5A52C8AE0BD702A94E84FE5D06B2DFAF3DA0750F3D5E5B\
    0FAEC66A83DBEEDF22BAAD53FFD220F314A8C12A646C4BFDB296D71A0065B28F";
/// Tag 90 (248 bytes; the issuer key fits, no 92).
const EF_ISSUER_CERT: &str = "\
    7AF7C3297510E795704B4B34BB1526EB953FE7BEE08DBF08DFBA056AA42FC726\
    BC03373A319DDC6197E2F5B333401AE3E4BBFC5044D245BDDEBEA146994132D9\
    39D72E8E05CC958856DFCB33B26427812955B09F7A7A68AAAB6B8326AD292908\
    2569DA040BD286F2F20A759E62683995D4B840655342C8088FA18806C2290992\
    665A45EC16AC6FE4B0FA664FC644B7B485CD4612B2967B846A9482DB7D16E9F9\
    A3A8295CE5D2B91718180F1E86E67E8E2275EB2116E651BD91AAC49D80D6E64D\
    EB54977258465C09274DD7D232A98CD80C76458CEAAA2B0A414EE7A1B8899E63\
    61B098307EBE5E87F31C41B0A32B248CF6DA9849810C4955";
/// Tag 93 (DAC DAC0).
const EF_SSAD: &str = "\
    21A0D15CCE47A534B8C86F03FCB56DA82332435BB2F7266A01196050D1C4A42C\
    38C63F4B22331E7BA1B664EC925CB0539DC82539CB4F83818B90F6C94D4448D8\
    7F7140A3E3B0AD96C8C1FF62A9519F16AC4BF18F10E06A0366A1D6250752A595\
    92BC61104EFDD0DD332FD4760F3B922B169C18C31BDD706688B63B332B2DA566\
    E7176BD01C581E9FE45101EA49C1007A";
/// Tag 9F46 (144 bytes).
const EF_ICC_CERT: &str = "\
    17ABB31427EFF0CCB678959F291C175BFE42581839603AFBC34866F84966C11B\
    29CD0B67A4E9D4EAC1F18CC1BE25D8D102BF4DEE486E5FCEECB731F347D57FD1\
    1BC96DD9CBA154C2140EDD69B0E1A18953255A3F91B6D4FB06E885702B958EBA\
    99714609FB40B881A0A69BC3112008BCA9BBF55E1544E6F2D95ECB9C8656FB49\
    8767B5EAD58171B32EC40A536D52906C";
/// Tag 9F48 (42 bytes).
const EF_ICC_REMAINDER: &str = "\
    8F9498797B9DE111BF5EB97EF1820BA654E4867F09D6BB41BCB1E4FB3E9D287A\
    BD670319181347312707";
/// The ODA record (SFI 2 record 2), without its tag 70 and length.
const EF_ODA_RECORD: &str = "\
    5A0854133300896000445F24031412315F25030401015F280200565F3401018C\
    219F02069F03069F090295055F2A029A039C019F37049F35019F45029F4C089F\
    34038D0C910A8A0295059F37049F4C088E0C00000000000000005E031F039F07\
    02FF009F080200029F0D0500000000009F0E0500000000009F0F050000000000\
    9F420209789F4A0182DF4F03123456";

/// AIP of the F3 trace (9F4A = 82, so it is part of the static data).
const F3_AIP: [u8; 2] = [0x59, 0x80];
/// UN (9F37) the terminal sent in the F3 trace.
const F3_UN: [u8; 4] = [0x33, 0xBC, 0xA4, 0x7D];
/// AIP of the EF trace.
const EF_AIP: [u8; 2] = [0x59, 0x00];

fn h(text: &str) -> Vec<u8> {
    hex::decode(text).unwrap()
}

// ---------------------------------------------------------------------------
// openssl
// ---------------------------------------------------------------------------

/// A scratch directory and the `openssl` binary.
struct Openssl {
    dir: PathBuf,
}

impl Openssl {
    /// `None` (with a message) when there is no usable `openssl`.
    fn get() -> Option<Self> {
        let works = Command::new("openssl")
            .arg("version")
            .output()
            .is_ok_and(|o| o.status.success());
        if !works {
            assert!(
                std::env::var_os("EMV_REQUIRE_OPENSSL").is_none(),
                "EMV_REQUIRE_OPENSSL is set but `openssl version` does not run"
            );
            eprintln!("SKIPPED: no `openssl` binary; independent verification not run");
            return None;
        }
        static COUNTER: AtomicUsize = AtomicUsize::new(0);
        let dir = std::env::temp_dir().join(format!(
            "emv-pki-independent-{}-{}",
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::Relaxed)
        ));
        std::fs::create_dir_all(&dir).unwrap();
        Some(Self { dir })
    }

    /// Raw RSA public operation by openssl: `signed^e mod n`.
    fn recover(&self, modulus: &[u8], exponent: &[u8], signed: &[u8]) -> Result<Vec<u8>, String> {
        let key = self.dir.join("key.der");
        let input = self.dir.join("signed.bin");
        let output = self.dir.join("recovered.bin");
        std::fs::write(&key, spki_der(modulus, exponent)).unwrap();
        std::fs::write(&input, signed).unwrap();
        let _ = std::fs::remove_file(&output);
        let run = Command::new("openssl")
            .args([
                "pkeyutl",
                "-verifyrecover",
                "-pubin",
                "-keyform",
                "DER",
                "-inkey",
            ])
            .arg(&key)
            .args(["-pkeyopt", "rsa_padding_mode:none", "-in"])
            .arg(&input)
            .arg("-out")
            .arg(&output)
            .output()
            .unwrap();
        if !run.status.success() {
            return Err(String::from_utf8_lossy(&run.stderr).into_owned());
        }
        Ok(std::fs::read(&output).unwrap())
    }

    /// SHA-1 by `openssl dgst`.
    fn sha1(&self, data: &[u8]) -> [u8; 20] {
        let input = self.dir.join("hashed.bin");
        std::fs::write(&input, data).unwrap();
        let run = Command::new("openssl")
            .args(["dgst", "-sha1", "-binary"])
            .arg(&input)
            .output()
            .unwrap();
        assert!(run.status.success(), "openssl dgst failed");
        run.stdout.try_into().unwrap()
    }

    /// Recovers with openssl and checks the Book 2 framing: length, `6A`,
    /// `format`, hash algorithm `01` at `hash_algorithm_at`, SHA-1 over
    /// format … padding ‖ `hashed_after` (by openssl), `BC`.
    fn check(
        &self,
        key: &RsaPublicKey,
        signed: &[u8],
        format: u8,
        hash_algorithm_at: usize,
        hashed_after: &[u8],
    ) -> Result<Vec<u8>, String> {
        let x = self.recover(key.modulus(), key.exponent().bytes(), signed)?;
        let n = key.modulus_len();
        if x.len() != n {
            return Err(format!("recovered {} bytes, modulus {n}", x.len()));
        }
        if x[0] != 0x6A {
            return Err(format!("header {:02X}", x[0]));
        }
        if x[n - 1] != 0xBC {
            return Err(format!("trailer {:02X}", x[n - 1]));
        }
        if x[1] != format {
            return Err(format!("format {:02X}", x[1]));
        }
        if x[hash_algorithm_at] != 0x01 {
            return Err(format!("hash algorithm {:02X}", x[hash_algorithm_at]));
        }
        let mut hashed = x[1..n - 21].to_vec();
        hashed.extend_from_slice(hashed_after);
        if self.sha1(&hashed) != x[n - 21..n - 1] {
            return Err("hash mismatch".into());
        }
        Ok(x)
    }
}

impl Drop for Openssl {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// DER length octets.
fn der_len(len: usize) -> Vec<u8> {
    match len {
        0..=0x7F => vec![len as u8],
        0x80..=0xFF => vec![0x81, len as u8],
        _ => vec![0x82, (len >> 8) as u8, len as u8],
    }
}

fn der(tag: u8, content: &[u8]) -> Vec<u8> {
    let mut out = vec![tag];
    out.extend(der_len(content.len()));
    out.extend_from_slice(content);
    out
}

/// A non-negative INTEGER.
fn der_uint(bytes: &[u8]) -> Vec<u8> {
    let first = bytes.iter().position(|&b| b != 0).unwrap_or(bytes.len());
    let mut content = bytes[first..].to_vec();
    if content.first().is_none_or(|&b| b & 0x80 != 0) {
        content.insert(0, 0);
    }
    der(0x02, &content)
}

/// SubjectPublicKeyInfo { rsaEncryption, RSAPublicKey { n, e } } (RFC 8017
/// Appendix A.1.1, RFC 5280 §4.1).
fn spki_der(modulus: &[u8], exponent: &[u8]) -> Vec<u8> {
    const RSA_ENCRYPTION: [u8; 11] = [
        0x06, 0x09, 0x2A, 0x86, 0x48, 0x86, 0xF7, 0x0D, 0x01, 0x01, 0x01,
    ];
    let mut algorithm = RSA_ENCRYPTION.to_vec();
    algorithm.extend_from_slice(&[0x05, 0x00]);
    let mut rsa_key = der_uint(modulus);
    rsa_key.extend(der_uint(exponent));
    let mut bits = vec![0x00];
    bits.extend(der(0x30, &rsa_key));
    let mut spki = der(0x30, &algorithm);
    spki.extend(der(0x03, &bits));
    der(0x30, &spki)
}

/// Tamper helper (tests only): `bytes` with bit `bit` flipped.
fn flip(bytes: &[u8], bit: usize) -> Vec<u8> {
    let mut out = bytes.to_vec();
    out[bit / 8] ^= 0x80 >> (bit % 8);
    out
}

/// Bit positions to flip: the first, one in the middle, the last.
fn tamper_positions(len: usize) -> [usize; 4] {
    [0, 7, len * 4 + 3, len * 8 - 1]
}

/// Every one-bit change of `signed` must fail openssl's check.
fn assert_tamper_fails(
    ossl: &Openssl,
    key: &RsaPublicKey,
    signed: &[u8],
    format: u8,
    hash_algorithm_at: usize,
    hashed_after: &[u8],
) {
    for bit in tamper_positions(signed.len()) {
        let bad = flip(signed, bit);
        assert!(
            ossl.check(key, &bad, format, hash_algorithm_at, hashed_after)
                .is_err(),
            "a certificate with bit {bit} flipped passed openssl's check"
        );
    }
}

fn pan() -> Vec<u8> {
    h("5413330089600044")
}

// ---------------------------------------------------------------------------
// Our certificates, checked by openssl.
// ---------------------------------------------------------------------------

/// Issuer then ICC certificate, both shapes: key fits (BB padding) and key
/// split with a remainder.
fn chain_case(ca: &TestCa, issuer: &RsaKeyPair, icc: &RsaKeyPair) {
    let Some(ossl) = Openssl::get() else { return };
    let issuer_id = [0x54, 0x13, 0x33, 0xFF];
    let expiry = CertificateExpiry::new(12, 30).unwrap();
    let static_data = [
        &pan()[..],
        &[0x5F, 0x24, 0x03, 0x30, 0x12, 0x31],
        &[0x39, 0x00],
    ]
    .concat();

    let ca_pk = ca.capk().public_key().unwrap();
    let cert = ca
        .issue_issuer_certificate(issuer, issuer_id, expiry, [0x00, 0x00, 0x42])
        .unwrap();
    let hashed = [&cert.remainder[..], &cert.exponent[..]].concat();
    let x = ossl
        .check(&ca_pk, &cert.certificate, 0x02, 11, &hashed)
        .unwrap();
    assert_eq!(x, recover(&ca_pk, &cert.certificate).unwrap());
    let (nca, ni) = (ca_pk.modulus_len(), issuer.modulus_len());
    assert_eq!(x[2..6], issuer_id);
    assert_eq!(x[6..8], [0x12, 0x30]);
    assert_eq!(x[8..11], [0x00, 0x00, 0x42]);
    assert_eq!(x[12], 0x01, "RSA");
    assert_eq!(usize::from(x[13]), ni);
    assert_eq!(usize::from(x[14]), issuer.exponent().bytes().len());
    assert_eq!(cert.exponent, issuer.exponent().bytes());
    let field = &x[15..nca - 21];
    if ni <= nca - 36 {
        assert!(cert.remainder.is_empty());
        assert_eq!(field[..ni], *issuer.modulus());
        assert!(field[ni..].iter().all(|&b| b == 0xBB));
    } else {
        assert_eq!([field, &cert.remainder[..]].concat(), issuer.modulus());
    }
    assert_tamper_fails(&ossl, &ca_pk, &cert.certificate, 0x02, 11, &hashed);
    for bit in tamper_positions(cert.certificate.len()) {
        let bad = IssuerCertificate {
            certificate: flip(&cert.certificate, bit),
            ..cert.clone()
        };
        assert!(verify_issuer_certificate(&ca_pk, &bad).is_err());
    }

    let issuer_pk = verify_issuer_certificate(&ca_pk, &cert).unwrap().public_key;
    let icc_cert =
        issue_icc_certificate(issuer, icc, &pan(), expiry, [0, 1, 2], &static_data).unwrap();
    let hashed = [
        &icc_cert.remainder[..],
        &icc_cert.exponent[..],
        &static_data[..],
    ]
    .concat();
    let x = ossl
        .check(&issuer_pk, &icc_cert.certificate, 0x04, 17, &hashed)
        .unwrap();
    let nic = icc.modulus_len();
    assert_eq!(x[2..12], [&pan()[..], &[0xFF, 0xFF]].concat());
    assert_eq!(x[12..14], [0x12, 0x30]);
    assert_eq!(x[14..17], [0, 1, 2]);
    assert_eq!(x[18], 0x01);
    assert_eq!(usize::from(x[19]), nic);
    assert_eq!(usize::from(x[20]), icc.exponent().bytes().len());
    let field = &x[21..ni - 21];
    if nic <= ni - 42 {
        assert!(icc_cert.remainder.is_empty());
        assert_eq!(field[..nic], *icc.modulus());
        assert!(field[nic..].iter().all(|&b| b == 0xBB));
    } else {
        assert_eq!([field, &icc_cert.remainder[..]].concat(), icc.modulus());
    }
    assert_tamper_fails(&ossl, &issuer_pk, &icc_cert.certificate, 0x04, 17, &hashed);
    for bit in tamper_positions(icc_cert.certificate.len()) {
        let bad = IccCertificate {
            certificate: flip(&icc_cert.certificate, bit),
            ..icc_cert.clone()
        };
        assert!(verify_icc_certificate(&issuer_pk, &bad, &static_data).is_err());
    }
    let opened = verify_icc_certificate(&issuer_pk, &icc_cert, &static_data).unwrap();
    assert_eq!(opened.public_key, *icc.public_key());
    assert!(opened.matches_pan(&pan()));
}

#[test]
fn chain_with_padding_verifies_with_openssl() {
    // CA 1984 bits (e = 3) → issuer 1408 bits (e = 65537, fits) → ICC
    // 1024 bits (e = 65537, fits).
    let ca = TestCa::shipped(0x01).unwrap();
    let issuer = RsaKeyPair::from_seed(b"independent/issuer-1408", 1408, Exponent::F4).unwrap();
    let icc = RsaKeyPair::from_seed(b"independent/icc-1024", 1024, Exponent::F4).unwrap();
    chain_case(&ca, &issuer, &icc);
}

#[test]
fn chain_with_remainders_verifies_with_openssl() {
    // CA 1152 bits → issuer 1152 bits (36-byte 92) → ICC 1152 bits (42-byte
    // 9F48), all e = 3.
    let ca = TestCa::shipped(0x04).unwrap();
    let issuer = RsaKeyPair::from_seed(b"independent/issuer-1152", 1152, Exponent::Three).unwrap();
    let icc = RsaKeyPair::from_seed(b"independent/icc-1152", 1152, Exponent::Three).unwrap();
    chain_case(&ca, &issuer, &icc);
}

#[test]
fn pin_encipherment_certificate_verifies_with_openssl() {
    let Some(ossl) = Openssl::get() else { return };
    let issuer = RsaKeyPair::from_seed(b"independent/issuer-1152", 1152, Exponent::Three).unwrap();
    let pin = RsaKeyPair::from_seed(b"independent/pin-768", 768, Exponent::Three).unwrap();
    let expiry = CertificateExpiry::new(1, 31).unwrap();
    let cert = issue_icc_pin_certificate(&issuer, &pin, &pan(), expiry, [9, 9, 9]).unwrap();
    let hashed = [&cert.remainder[..], &cert.exponent[..]].concat();
    let x = ossl
        .check(issuer.public_key(), &cert.certificate, 0x04, 17, &hashed)
        .unwrap();
    assert_eq!(x[21..21 + 96], *pin.modulus());
    assert_tamper_fails(
        &ossl,
        issuer.public_key(),
        &cert.certificate,
        0x04,
        17,
        &hashed,
    );
    assert_eq!(
        verify_icc_pin_certificate(&issuer, &cert)
            .unwrap()
            .public_key,
        *pin.public_key()
    );
}

#[test]
fn ssad_and_sdad_verify_with_openssl() {
    let Some(ossl) = Openssl::get() else { return };
    let issuer = RsaKeyPair::from_seed(b"independent/issuer-1408", 1408, Exponent::F4).unwrap();
    let icc = RsaKeyPair::from_seed(b"independent/icc-1024", 1024, Exponent::F4).unwrap();

    // SSAD (Table 7).
    let static_data = b"\x5A\x08\x54\x13\x33\x00\x89\x60\x00\x44\x39\x00";
    let ssad = sign_static_data(&issuer, [0xDA, 0xC0], static_data).unwrap();
    let x = ossl
        .check(issuer.public_key(), &ssad, 0x03, 2, static_data)
        .unwrap();
    assert_eq!(x[3..5], [0xDA, 0xC0]);
    assert!(x[5..176 - 21].iter().all(|&b| b == 0xBB));
    assert_tamper_fails(&ossl, issuer.public_key(), &ssad, 0x03, 2, static_data);
    assert_eq!(
        verify_static_data(&issuer, &ssad, static_data),
        Ok([0xDA, 0xC0])
    );

    // DDA SDAD (Table 17).
    let un = [0x7F, 0xBC, 0x40, 0x49];
    let sdad = sign_dynamic_data_dda(&icc, &[0x00, 0xAE], &un).unwrap();
    let x = ossl.check(icc.public_key(), &sdad, 0x05, 2, &un).unwrap();
    assert_eq!(x[3..7], [0x03, 0x02, 0x00, 0xAE]);
    assert!(x[7..128 - 21].iter().all(|&b| b == 0xBB));
    assert_tamper_fails(&ossl, icc.public_key(), &sdad, 0x05, 2, &un);
    assert_eq!(
        verify_dynamic_data_dda(&icc, &sdad, &un)
            .unwrap()
            .icc_dynamic_number,
        [0x00, 0xAE]
    );

    // CDA SDAD (Tables 19, 22), with the hash code computed by openssl.
    let pdol = h(F3_PDOL_DATA);
    let cdol = h(F3_CDOL1_DATA);
    let response =
        h("9F2701409F360202E09F101A2210904203A400000000000000024355FFFF00000000000000FF");
    let tdhc = transaction_data_hash_code(&pdol, &cdol, &response).unwrap();
    assert_eq!(tdhc, ossl.sha1(&[&pdol[..], &cdol, &response].concat()));
    let idn = [1, 2, 3, 4, 5, 6, 7, 8];
    let ac = [0xAC; 8];
    let sdad = sign_dynamic_data_cda(&icc, &idn, 0x40, ac, tdhc, F3_UN).unwrap();
    let x = ossl
        .check(icc.public_key(), &sdad, 0x05, 2, &F3_UN)
        .unwrap();
    assert_eq!(x[3], 38, "LDD = 1 + 8 + 1 + 8 + 20");
    assert_eq!(x[4], 8);
    assert_eq!(x[5..13], idn);
    assert_eq!(x[13], 0x40);
    assert_eq!(x[14..22], ac);
    assert_eq!(x[22..42], tdhc);
    assert_tamper_fails(&ossl, icc.public_key(), &sdad, 0x05, 2, &F3_UN);
    let opened = verify_dynamic_data_cda(&icc, &sdad, F3_UN, &tdhc).unwrap();
    assert_eq!(opened.application_cryptogram, ac);
}

#[test]
fn project_capk_checksum_matches_openssl() {
    let Some(ossl) = Openssl::get() else { return };
    let ca = TestCa::shipped(0x02).unwrap();
    let capk = ca.capk();
    assert_eq!(capk.rid, PROJECT_RID);
    assert_eq!(capk.exponent, [0x01, 0x00, 0x01]);
    assert_eq!(capk.modulus.len(), 248);
    let input = [&capk.rid[..], &[capk.index], &capk.modulus, &capk.exponent].concat();
    assert_eq!(capk.checksum, ossl.sha1(&input));
    assert!(capk.to_toml().contains(&hex::encode_upper(capk.checksum)));
}

// ---------------------------------------------------------------------------
// Published certificates, checked by our code and by openssl.
// ---------------------------------------------------------------------------

#[test]
fn published_capk_checksums() {
    for (index, modulus, exponent, published) in [
        (
            0xF3,
            MC_F3_MODULUS,
            &[0x03][..],
            "A69AC7603DAF566E972DEDC2CB433E07E8B01A9A",
        ),
        (
            0xEF,
            MC_EF_MODULUS,
            &[0x03][..],
            "21766EBB0EE122AFB65D7845B73DB46BAB65427A",
        ),
        (
            0xF5,
            MC_F5_MODULUS,
            &[0x01, 0x00, 0x01][..],
            "C2239804C8098170BE52D6D5D4159E81CE8466BF",
        ),
    ] {
        let modulus = h(modulus);
        assert_eq!(
            hex::encode_upper(capk::checksum(MC_RID, index, &modulus, exponent)),
            published
        );
        let key = RsaPublicKey::new(&modulus, exponent).unwrap();
        let entry = Capk::new(MC_RID, index, &key, (2030, 12)).unwrap();
        assert_eq!(hex::encode_upper(entry.checksum), published);
        assert!(entry.checksum_is_valid());
    }
}

/// Mastercard test CAPK F3: the full contactless chain of
/// `mock-msc-offline.json`, TC with CDA.
#[test]
fn published_mastercard_f3_chain() {
    let ca = RsaPublicKey::new(&h(MC_F3_MODULUS), &[0x03]).unwrap();

    let issuer_cert = IssuerCertificate {
        certificate: h(F3_ISSUER_CERT),
        remainder: h(F3_ISSUER_REMAINDER),
        exponent: vec![0x03],
    };
    let issuer = verify_issuer_certificate(&ca, &issuer_cert).unwrap();
    assert_eq!(issuer.public_key.modulus_len(), 144);
    let pan = h("5413339000001513");
    assert!(issuer.matches_pan(&pan));

    let static_data = [h(F3_ODA_RECORD), F3_AIP.to_vec()].concat();
    assert_eq!(
        verify_static_data(&issuer.public_key, &h(F3_SSAD), &static_data),
        Ok([0xDA, 0xC0])
    );

    let icc_cert = IccCertificate {
        certificate: h(F3_ICC_CERT),
        remainder: h(F3_ICC_REMAINDER),
        exponent: vec![0x03],
    };
    let icc = verify_icc_certificate(&issuer.public_key, &icc_cert, &static_data).unwrap();
    assert!(icc.matches_pan(&pan));
    assert_eq!(icc.public_key.modulus_len(), 128);
    // Without the AIP the static data is wrong.
    assert_eq!(
        verify_icc_certificate(&issuer.public_key, &icc_cert, &h(F3_ODA_RECORD)),
        Err(PkiError::HashMismatch)
    );

    let tdhc =
        transaction_data_hash_code(&h(F3_PDOL_DATA), &h(F3_CDOL1_DATA), &h(F3_GENAC_TLVS)).unwrap();
    let cda = verify_dynamic_data_cda(&icc.public_key, &h(F3_SDAD), F3_UN, &tdhc).unwrap();
    assert_eq!(cda.cid, 0x40, "equals 9F27 in the response");

    // The same certificates recover with openssl.
    let Some(ossl) = Openssl::get() else { return };
    let hashed = [h(F3_ISSUER_REMAINDER), vec![0x03]].concat();
    let x = ossl
        .check(&ca, &issuer_cert.certificate, 0x02, 11, &hashed)
        .unwrap();
    assert_eq!(x[2..6], [0x54, 0x13, 0x33, 0x90]);
    let hashed = [h(F3_ICC_REMAINDER), vec![0x03], static_data.clone()].concat();
    ossl.check(&issuer.public_key, &icc_cert.certificate, 0x04, 17, &hashed)
        .unwrap();
    ossl.check(&issuer.public_key, &h(F3_SSAD), 0x03, 2, &static_data)
        .unwrap();
    let x = ossl
        .check(&icc.public_key, &h(F3_SDAD), 0x05, 2, &F3_UN)
        .unwrap();
    assert_eq!(x[22..42], tdhc);
    assert_tamper_fails(
        &ossl,
        &ca,
        &issuer_cert.certificate,
        0x02,
        11,
        &[&h(F3_ISSUER_REMAINDER)[..], &[3]].concat(),
    );
}

/// Mastercard test CAPK EF (1984 bits): the contact chain of
/// `contact-mastercard-in.txt` (issuer and ICC keys with exponent 65537).
#[test]
fn published_mastercard_ef_chain() {
    let ca = RsaPublicKey::new(&h(MC_EF_MODULUS), &[0x03]).unwrap();
    let issuer_cert = IssuerCertificate {
        certificate: h(EF_ISSUER_CERT),
        remainder: vec![],
        exponent: vec![0x01, 0x00, 0x01],
    };
    let issuer = verify_issuer_certificate(&ca, &issuer_cert).unwrap();
    assert_eq!(issuer.public_key.exponent(), Exponent::F4);
    let pan = pan();
    assert!(issuer.matches_pan(&pan));

    let static_data = [h(EF_ODA_RECORD), EF_AIP.to_vec()].concat();
    assert_eq!(
        verify_static_data(&issuer.public_key, &h(EF_SSAD), &static_data),
        Ok([0xDA, 0xC0])
    );
    let icc_cert = IccCertificate {
        certificate: h(EF_ICC_CERT),
        remainder: h(EF_ICC_REMAINDER),
        exponent: vec![0x01, 0x00, 0x01],
    };
    let icc = verify_icc_certificate(&issuer.public_key, &icc_cert, &static_data).unwrap();
    assert!(icc.matches_pan(&pan));

    let Some(ossl) = Openssl::get() else { return };
    let x = ossl
        .check(&ca, &issuer_cert.certificate, 0x02, 11, &[0x01, 0x00, 0x01])
        .unwrap();
    assert_eq!(x.len(), 248);
    let hashed = [h(EF_ICC_REMAINDER), vec![0x01, 0x00, 0x01], static_data].concat();
    ossl.check(&issuer.public_key, &icc_cert.certificate, 0x04, 17, &hashed)
        .unwrap();
}

#[test]
fn der_encoding_of_the_key_is_what_openssl_reads() {
    let Some(ossl) = Openssl::get() else { return };
    // A key openssl parses back to the same modulus and exponent.
    let key = ossl.dir.join("parse.der");
    std::fs::write(&key, spki_der(&h(MC_F3_MODULUS), &[0x03])).unwrap();
    let out = Command::new("openssl")
        .args(["pkey", "-pubin", "-inform", "DER", "-noout", "-text", "-in"])
        .arg(&key)
        .output()
        .unwrap();
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("1152 bit"), "{text}");
    assert!(text.contains("Exponent: 3 (0x3)"), "{text}");
}
