//! Every [`image_builder::BuildError`], and labels.

use image_builder::{build, minimum_size, BuildError, BuildOptions, Label, LabelError};

use crate::fixtures;

#[test]
fn the_token_must_be_present_and_well_formed() {
    assert!(matches!(
        build(&BuildOptions::new(" \n")),
        Err(BuildError::EmptyToken)
    ));
    assert!(matches!(
        build(&BuildOptions::new("v4.public.garbage")),
        Err(BuildError::GarbledToken(_))
    ));
}

#[test]
fn the_token_must_verify_under_the_issuer_key_given() {
    let options = BuildOptions {
        issuer: Some(authkey::SecretKey::from_seed(&[0x22; 32]).public_key()),
        ..BuildOptions::new(fixtures::token())
    };
    assert!(matches!(build(&options), Err(BuildError::WrongIssuer(_))));
}

#[test]
fn sizes() {
    let minimum = minimum_size(&BuildOptions::new(fixtures::token())).expect("computes");
    let sized = |size| BuildOptions {
        size: Some(size),
        ..BuildOptions::new(fixtures::token())
    };
    assert_eq!(
        build(&sized(minimum)).expect("builds").len() as u64,
        minimum
    );
    assert_eq!(
        build(&BuildOptions::new(fixtures::token()))
            .expect("builds")
            .len() as u64,
        minimum
    );
    assert!(matches!(
        build(&sized(minimum - 512)),
        Err(BuildError::TooSmall { minimum: m, .. }) if m == minimum
    ));
    assert!(matches!(
        build(&sized(minimum + 1)),
        Err(BuildError::PartialSector { .. })
    ));
    assert!(matches!(
        build(&sized(image_builder::MAX_SIZE + 512)),
        Err(BuildError::TooLarge { .. })
    ));
}

#[test]
fn labels() {
    assert_eq!(image_builder::DEFAULT_LABEL.parse(), Ok(Label::default()));
    assert_eq!(
        "key-01".parse::<Label>().map(|l| l.to_string()),
        Ok("KEY-01".to_owned())
    );
    assert_eq!("".parse::<Label>(), Err(LabelError::Length(0)));
    assert_eq!("TWELVE CHARS".parse::<Label>(), Err(LabelError::Length(12)));
    assert_eq!("A.B".parse::<Label>(), Err(LabelError::Character('.')));
    assert_eq!(" A".parse::<Label>(), Err(LabelError::LeadingSpace));
}
