//! proptest strategies for syntax trees that print to valid programs.

use proptest::prelude::*;
use warden_diagnostics::TextRange;
use warden_syntax::ast::*;

const NAMES: &[&str] = &[
    "app", "req", "x", "role", "entry", "items", "name_1", "_tmp", "r", "ok",
];
const FIELDS: &[&str] = &[
    "name", "spec", "auth", "sso", "type", "data", "when", "roles", "tier", "url",
];

fn r() -> TextRange {
    TextRange::default()
}

fn name() -> impl Strategy<Value = Name> {
    prop::sample::select(NAMES).prop_map(|n| Name {
        text: n.to_string(),
        range: r(),
    })
}

fn field() -> impl Strategy<Value = Name> {
    prop::sample::select(FIELDS).prop_map(|n| Name {
        text: n.to_string(),
        range: r(),
    })
}

fn text() -> impl Strategy<Value = String> {
    // Printable text with the characters that need escaping.
    prop::collection::vec(
        prop::sample::select(vec![
            'a', 'Z', ' ', '"', '\\', '{', '}', 'é', '\t', '-', '.',
        ]),
        0..8,
    )
    .prop_map(|cs| cs.into_iter().collect())
}

fn literal() -> impl Strategy<Value = Literal> {
    prop_oneof![
        any::<bool>().prop_map(Literal::Bool),
        (0i64..1_000_000).prop_map(Literal::Int),
        (0u32..10_000).prop_map(|n| Literal::Float(f64::from(n) / 8.0)),
        text().prop_map(Literal::Str),
        Just(Literal::RawStr(r"^[a-z]+\.example$".into())),
        Just(Literal::None),
        prop::sample::select(vec![
            "2026-06-01",
            "2026-06-01T00:00:00Z",
            "2027-03-01T10:30:00+02:00"
        ])
        .prop_map(|t| Literal::Time(t.into())),
        prop::sample::select(vec!["90d", "12h", "1h30m", "500ms", "2w"])
            .prop_map(|t| Literal::Duration(t.into())),
    ]
}

fn e(kind: ExprKind) -> Expr {
    Expr::new(kind, r())
}

/// Expressions of bounded depth.
pub fn expr() -> impl Strategy<Value = Expr> {
    let leaf = prop_oneof![
        literal().prop_map(|l| e(ExprKind::Literal(l))),
        name().prop_map(|n| e(ExprKind::Name(n))),
        Just(e(ExprKind::Data)),
    ];
    leaf.prop_recursive(4, 48, 4, |inner| {
        let boxed = inner.clone().prop_map(Box::new);
        prop_oneof![
            (boxed.clone(), field(), any::<bool>()).prop_map(|(base, name, optional_chain)| e(
                ExprKind::Field {
                    base,
                    name,
                    optional_chain
                }
            )),
            (boxed.clone(), boxed.clone(), any::<bool>()).prop_map(
                |(base, index, optional_chain)| e(ExprKind::Index {
                    base,
                    index,
                    optional_chain
                })
            ),
            (name(), prop::collection::vec(inner.clone(), 0..3)).prop_map(|(n, args)| e(
                ExprKind::Call {
                    callee: Box::new(e(ExprKind::Name(n))),
                    args
                }
            )),
            (
                prop::sample::select(vec![UnaryOp::Not, UnaryOp::Neg]),
                boxed.clone()
            )
                .prop_map(|(op, operand)| e(ExprKind::Unary { op, operand })),
            (binary_op(), boxed.clone(), boxed.clone())
                .prop_map(|(op, lhs, rhs)| e(ExprKind::Binary { op, lhs, rhs })),
            (name(), field()).prop_map(|(n, f)| e(ExprKind::Has(Box::new(e(ExprKind::Field {
                base: Box::new(e(ExprKind::Name(n))),
                name: f,
                optional_chain: false
            }))))),
            (boxed.clone(), boxed.clone(), boxed.clone()).prop_map(|(c, t, f)| e(ExprKind::If {
                condition: c,
                then_branch: t,
                else_branch: f
            })),
            (any::<bool>(), name(), boxed.clone(), boxed.clone()).prop_map(
                |(all, binding, collection, body)| e(ExprKind::Quantifier {
                    kind: if all {
                        QuantifierKind::All
                    } else {
                        QuantifierKind::Any
                    },
                    binding,
                    collection,
                    body
                })
            ),
            prop::collection::vec(inner.clone(), 0..4).prop_map(|items| e(ExprKind::List(items))),
            prop::collection::vec(
                (
                    prop_oneof![
                        field(),
                        // Keys that must be quoted, as map literals have.
                        "[a-z][a-z0-9 .-]{0,6}".prop_map(|text| Name { text, range: r() }),
                    ],
                    inner.clone()
                ),
                0..3
            )
            .prop_map(|entries| e(ExprKind::Record(entries))),
            (
                boxed.clone(),
                name(),
                boxed.clone(),
                prop::option::of(boxed.clone())
            )
                .prop_map(|(element, binding, collection, filter)| {
                    e(ExprKind::Comprehension {
                        element,
                        binding,
                        collection,
                        filter,
                    })
                }),
            boxed.prop_map(|inner| e(ExprKind::Paren(inner))),
        ]
    })
}

fn binary_op() -> impl Strategy<Value = BinaryOp> {
    use BinaryOp::*;
    prop::sample::select(vec![
        Or, And, Eq, NotEq, Lt, LtEq, Gt, GtEq, In, NotIn, Matches, Coalesce, Add, Sub, Mul, Div,
        Rem,
    ])
}

fn type_expr() -> impl Strategy<Value = TypeExpr> {
    let t = |kind| TypeExpr { kind, range: r() };
    let leaf = prop_oneof![
        prop::sample::select(vec![
            "string", "int", "bool", "time", "duration", "Manifest"
        ])
        .prop_map(move |n| t(TypeExprKind::Named(Path {
            segments: vec![Name {
                text: n.into(),
                range: r()
            }],
            range: r()
        }))),
        Just(t(TypeExprKind::Any)),
        text().prop_map(move |s| t(TypeExprKind::Union(vec![
            t(TypeExprKind::Literal(StrLit {
                value: s,
                range: r()
            })),
            t(TypeExprKind::Literal(StrLit {
                value: "b".into(),
                range: r()
            }))
        ]))),
    ];
    leaf.prop_recursive(3, 16, 3, move |inner| {
        prop_oneof![
            inner
                .clone()
                .prop_map(move |i| t(TypeExprKind::List(Box::new(i)))),
            inner
                .clone()
                .prop_map(move |i| t(TypeExprKind::Map(Box::new(i)))),
            inner
                .clone()
                .prop_map(move |i| t(TypeExprKind::Optional(Box::new(i)))),
            (
                prop::collection::vec(
                    (
                        field(),
                        any::<bool>(),
                        inner,
                        prop::option::of("[a-z]{1,8}")
                    ),
                    0..3
                ),
                any::<bool>()
            )
                .prop_map(move |(fields, open)| {
                    let mut fields: Vec<FieldDecl> = fields
                        .into_iter()
                        .map(|(name, optional, ty, doc)| FieldDecl {
                            doc,
                            name,
                            optional,
                            ty,
                            range: r(),
                        })
                        .collect();
                    fields.dedup_by(|a, b| a.name.text == b.name.text);
                    // A lone field named `string` would print as the map type.
                    fields.retain(|f| f.name.text != "string");
                    t(TypeExprKind::Record { fields, open })
                }),
        ]
    })
}

fn template() -> impl Strategy<Value = Template> {
    prop::collection::vec(
        prop_oneof![
            text().prop_map(TemplatePart::Text),
            expr().prop_map(TemplatePart::Expr)
        ],
        0..4,
    )
    .prop_map(|parts| {
        // Adjacent text parts print as one; merge them so the tree round-trips.
        let mut merged: Vec<TemplatePart> = Vec::new();
        for part in parts {
            match (merged.last_mut(), part) {
                (_, TemplatePart::Text(t)) if t.is_empty() => {}
                (Some(TemplatePart::Text(a)), TemplatePart::Text(b)) => a.push_str(&b),
                (_, p) => merged.push(p),
            }
        }
        Template {
            parts: merged,
            range: r(),
        }
    })
}

fn clause() -> impl Strategy<Value = Clause> {
    (
        prop::sample::select(vec![Effect::Deny, Effect::Allow, Effect::Warn]),
        prop::option::of((name(), expr())),
        expr(),
        prop::option::of(template()),
        prop::collection::vec((field(), expr()), 0..2),
    )
        .prop_map(
            |(effect, iteration, condition, message, obligations)| Clause {
                effect,
                effect_range: r(),
                iteration: iteration.map(|(binding, collection)| Iteration {
                    binding,
                    collection,
                }),
                condition: Some(condition),
                message,
                obligations: obligations
                    .into_iter()
                    .map(|(key, value)| Obligation { key, value })
                    .collect(),
                range: r(),
            },
        )
}

fn item() -> impl Strategy<Value = Item> {
    let kind = prop_oneof![
        (name(), type_expr()).prop_map(|(name, ty)| ItemKind::Type(TypeDecl { name, ty })),
        (name(), type_expr(), prop::option::of(any::<bool>())).prop_map(|(name, ty, d)| {
            ItemKind::Target(TargetDecl {
                name,
                ty,
                default: d.map(|allow| {
                    (
                        if allow {
                            DefaultEffect::Allow
                        } else {
                            DefaultEffect::Deny
                        },
                        r(),
                    )
                }),
            })
        }),
        (name(), type_expr(), prop::option::of(expr()))
            .prop_map(|(name, ty, default)| ItemKind::Data(DataDecl { name, ty, default })),
        (
            name(),
            name(),
            prop::option::of(name()),
            prop::collection::vec(
                prop_oneof![
                    clause().prop_map(RuleStmt::Clause),
                    (name(), expr()).prop_map(|(name, value)| RuleStmt::Let(LetStmt {
                        name,
                        value,
                        range: r()
                    })),
                ],
                0..4
            )
        )
            .prop_map(|(name, target, binding, body)| ItemKind::Rule(RuleDecl {
                name,
                target,
                binding,
                body
            })),
        (
            name(),
            prop::collection::vec((name(), type_expr()), 0..3),
            prop::option::of(type_expr()),
            expr()
        )
            .prop_map(|(name, params, ret, body)| {
                ItemKind::Fn(FnDecl {
                    name,
                    params: params
                        .into_iter()
                        .map(|(name, ty)| Param { name, ty })
                        .collect(),
                    ret,
                    body,
                })
            }),
        (name(), name(), prop::option::of(expr())).prop_map(|(name, rule, condition)| {
            ItemKind::Waiver(WaiverDecl {
                name,
                rule: Path {
                    segments: vec![rule],
                    range: r(),
                },
                condition,
                fields: vec![
                    (
                        Name {
                            text: "until".into(),
                            range: r(),
                        },
                        e(ExprKind::Literal(Literal::Time("2027-03-01".into()))),
                    ),
                    (
                        Name {
                            text: "reason".into(),
                            range: r(),
                        },
                        e(ExprKind::Literal(Literal::Str("why".into()))),
                    ),
                ],
            })
        }),
    ];
    let attribute = (
        field(),
        prop::collection::vec(
            prop_oneof![
                field().prop_map(AttributeArg::Name),
                text().prop_map(|value| AttributeArg::Str(StrLit { value, range: r() })),
            ],
            0..3,
        ),
    )
        .prop_map(|(name, args)| Attribute {
            name,
            args,
            range: r(),
        });
    (
        prop::option::of("[a-z ]{0,12}"),
        prop::collection::vec(attribute, 0..2),
        kind,
    )
        .prop_map(|(doc, attributes, kind)| Item {
            doc: doc.map(|d| d.trim().to_string()).filter(|d| !d.is_empty()),
            attributes,
            kind,
            range: r(),
        })
}

/// Whole files: a package line and up to four items.
pub fn file() -> impl Strategy<Value = SourceFile> {
    prop::collection::vec(item(), 0..4).prop_map(|items| SourceFile {
        package: Some(PackageDecl {
            path: Path {
                segments: vec![
                    Name {
                        text: "gen".into(),
                        range: r(),
                    },
                    Name {
                        text: "data".into(),
                        range: r(),
                    },
                ],
                range: r(),
            },
            range: r(),
        }),
        imports: Vec::new(),
        items,
    })
}
