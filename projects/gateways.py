"""The legal gateway catalogue, seeded with the common UK ones; operators can add more."""

SEED = (
    (
        "uk-gdpr-6-1-e",
        "UK GDPR Article 6(1)(e): public task",
        "lawful basis",
        "Processing necessary for a task in the public interest or in official authority.",
    ),
    (
        "uk-gdpr-6-1-c",
        "UK GDPR Article 6(1)(c): legal obligation",
        "lawful basis",
        "Processing necessary to comply with a legal obligation.",
    ),
    (
        "uk-gdpr-9-2-g",
        "UK GDPR Article 9(2)(g): substantial public interest",
        "special category",
        "With a condition of DPA 2018 Schedule 1 Part 2.",
    ),
    (
        "uk-gdpr-9-2-h",
        "UK GDPR Article 9(2)(h): health or social care",
        "special category",
        "Health or social care purposes, with DPA 2018 Schedule 1 Part 1 paragraph 2.",
    ),
    (
        "uk-gdpr-9-2-j",
        "UK GDPR Article 9(2)(j): archiving, research and statistics",
        "special category",
        "With DPA 2018 Schedule 1 Part 1 paragraph 4 and Article 89 safeguards.",
    ),
    (
        "dpa-2018-sch1",
        "Data Protection Act 2018 Schedule 1",
        "special category",
        "Conditions for processing special categories and criminal offence data.",
    ),
    (
        "children-act-2004-s10",
        "Children Act 2004 section 10: co-operation to improve well-being",
        "statutory gateway",
        "Local authorities and partners co-operate to improve children's well-being.",
    ),
    (
        "children-act-2004-s11",
        "Children Act 2004 section 11: safeguarding duties",
        "statutory gateway",
        "Arrangements to safeguard and promote the welfare of children.",
    ),
    (
        "crime-disorder-1998-s115",
        "Crime and Disorder Act 1998 section 115: disclosure",
        "statutory gateway",
        "Disclosure to relevant authorities for the purposes of the Act.",
    ),
    (
        "crime-disorder-1998-s17",
        "Crime and Disorder Act 1998 section 17: duty to consider crime",
        "statutory gateway",
        "Authorities consider crime and disorder in all their functions.",
    ),
    (
        "dea-2017-part-5",
        "Digital Economy Act 2017 Part 5: public service delivery",
        "statutory gateway",
        "Data sharing to improve public services, including for research.",
    ),
    (
        "care-act-2014",
        "Care Act 2014",
        "statutory gateway",
        "Adult social care duties, including co-operation and safeguarding (sections 6, 7, 42).",
    ),
    (
        "hsca-2012-s251",
        "NHS Act 2006 section 251 (as amended by the Health and Social Care Act "
        "2012): support to set aside confidentiality",
        "confidentiality",
        "Approval under the Health Service (Control of Patient Information) Regulations 2002.",
    ),
    (
        "common-law-consent",
        "Common-law duty of confidentiality: consent",
        "confidentiality",
        "The people concerned consented to the disclosure.",
    ),
    (
        "common-law-not-confidential",
        "Common-law duty of confidentiality: data not confidential",
        "confidentiality",
        "The data is de-identified so that no duty of confidence arises.",
    ),
)
