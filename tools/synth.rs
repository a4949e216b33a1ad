//! Synthetic `terraform show -json` plans, for benchmarks and tests. Not part of the product:
//! the benches and tests include this file with `#[path]`, and `cargo run --release --example
//! synth_plan -- --resources N -o FILE` writes one by hand.
//!
//! [`write_plan`] streams a plan of `n` resource instances of common AWS types to a writer, in
//! the shape Terraform 1.9 writes (`format_version` 1.2): `planned_values` (with a fifth of the
//! resources in `child_modules`), `resource_changes` (mostly creates, with updates, deletes,
//! replaces and no-ops), and `configuration` (provider configuration with `default_tags`, and
//! every resource block's expressions, constants and references, including `module_calls`).
//! `prior_state` is left out.
//!
//! The output is a pure function of `(n, seed)`: a tiny xorshift generator, seeded per
//! resource block and per instance, decides every value, so each section can be written in
//! its own pass without keeping the others in memory. The only thing held for the whole plan
//! is the layout: one small record per resource block (type, module, count, links to the
//! blocks it references), a few bytes per resource.
//!
//! Values mix compliant and non-compliant settings (unencrypted volumes, SSH open to the
//! world, public databases, missing tags, wildcard IAM policies, ...), unknown values
//! (`after_unknown`) for computed attributes of new objects and for references to them, and a
//! sensitive database password (`after_sensitive`). Attribute names follow the AWS provider
//! v5, written compactly (no whitespace), with a few realistic attributes per type rather than
//! every attribute of the schema as Terraform writes them: a real plan of the same resources
//! is several times larger. That comes to about 1.7 KB per resource over the whole document
//! (100k resources: 170 MB, written in about 1.3 s); the envelope that `planned_values` and
//! `resource_changes` repeat for each resource, tags and `tags_all` are most of it, so even the
//! smallest types take over 1 KB.
//!
//! Not covered: data sources, `prior_state`, `resource_drift`, outputs, nested modules.

use std::io::{self, BufWriter, Write};

use serde_json::{json, Map, Value};

const PROVIDER: &str = "registry.terraform.io/hashicorp/aws";
const ACCOUNT: &str = "123456789012";
const REGION: &str = "us-east-1";
/// Resource instances per child module (a fifth of the plan lives in modules).
const MODULE_SIZE: usize = 250;
const NONE: u32 = u32::MAX;
const KEYS: [&str; 8] = [
    "blue", "green", "orders", "payments", "users", "reports", "search", "audit",
];
const ENVS: [&str; 3] = ["staging", "dev", "prod"];
const OWNERS: [&str; 6] = [
    "platform", "payments", "data", "search", "identity", "growth",
];

// Random streams: each kind of decision draws from its own sequence.
const S_LAYOUT: u64 = 1;
const S_BLOCK: u64 = 2;
const S_ACTION: u64 = 3;
const S_ID: u64 = 4;

/// Writes a plan of `n` resource instances, deterministic for `seed`.
pub fn write_plan<W: Write>(n: usize, seed: u64, w: W) -> io::Result<()> {
    let lay = Layout::new(n, seed);
    let mut w = BufWriter::with_capacity(1 << 20, w);
    let g = Gen { lay: &lay, seed };
    g.header(&mut w)?;
    g.planned_values(&mut w)?;
    g.resource_changes(&mut w)?;
    g.configuration(&mut w)?;
    w.write_all(
        br#","timestamp":"2024-11-20T10:00:00Z","applyable":true,"complete":true,"errored":false}"#,
    )?;
    w.write_all(b"\n")?;
    w.flush()
}

// --- Random numbers ------------------------------------------------------------------------

/// xorshift64*, seeded through splitmix64 so neighbouring streams are unrelated.
struct Rng(u64);

fn splitmix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

impl Rng {
    fn new(seed: u64, stream: u64, i: u64) -> Rng {
        let z = splitmix(splitmix(seed ^ stream.wrapping_mul(0xD6E8_FEB8_6659_FD93)) ^ i);
        Rng(if z == 0 { 1 } else { z })
    }

    fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }

    /// True with probability `pct` percent.
    fn chance(&mut self, pct: u64) -> bool {
        self.below(100) < pct
    }

    fn pick<T: Copy>(&mut self, items: &[T]) -> T {
        items[self.below(items.len() as u64) as usize]
    }

    fn hex(&mut self, len: usize) -> String {
        const DIGITS: &[u8; 16] = b"0123456789abcdef";
        let mut s = String::with_capacity(len);
        while s.len() < len {
            let mut x = self.next();
            for _ in 0..16.min(len - s.len()) {
                s.push(DIGITS[(x & 15) as usize] as char);
                x >>= 4;
            }
        }
        s
    }

    fn upper(&mut self, len: usize) -> String {
        (0..len)
            .map(|_| (b'A' + self.below(26) as u8) as char)
            .collect()
    }
}

// --- Resource types ------------------------------------------------------------------------

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Kind {
    Vpc,
    Subnet,
    SecurityGroup,
    SgRule,
    Instance,
    EbsVolume,
    S3Bucket,
    S3Sse,
    S3Pab,
    DbInstance,
    IamRole,
    IamPolicy,
    Lambda,
    Sqs,
    Dynamo,
    LogGroup,
    Lb,
    LbListener,
    KmsKey,
}

const KIND_COUNT: usize = 19;

/// Relative frequency of the blocks a layout draws (S3 companions come with their bucket).
const WEIGHTS: [(Kind, u64); 17] = [
    (Kind::Instance, 9),
    (Kind::EbsVolume, 10),
    (Kind::S3Bucket, 6),
    (Kind::SecurityGroup, 5),
    (Kind::SgRule, 14),
    (Kind::DbInstance, 3),
    (Kind::IamRole, 6),
    (Kind::IamPolicy, 5),
    (Kind::Lambda, 5),
    (Kind::Sqs, 6),
    (Kind::Dynamo, 4),
    (Kind::LogGroup, 10),
    (Kind::Lb, 2),
    (Kind::LbListener, 3),
    (Kind::Vpc, 1),
    (Kind::Subnet, 5),
    (Kind::KmsKey, 3),
];

impl Kind {
    fn type_name(self) -> &'static str {
        match self {
            Kind::Vpc => "aws_vpc",
            Kind::Subnet => "aws_subnet",
            Kind::SecurityGroup => "aws_security_group",
            Kind::SgRule => "aws_security_group_rule",
            Kind::Instance => "aws_instance",
            Kind::EbsVolume => "aws_ebs_volume",
            Kind::S3Bucket => "aws_s3_bucket",
            Kind::S3Sse => "aws_s3_bucket_server_side_encryption_configuration",
            Kind::S3Pab => "aws_s3_bucket_public_access_block",
            Kind::DbInstance => "aws_db_instance",
            Kind::IamRole => "aws_iam_role",
            Kind::IamPolicy => "aws_iam_policy",
            Kind::Lambda => "aws_lambda_function",
            Kind::Sqs => "aws_sqs_queue",
            Kind::Dynamo => "aws_dynamodb_table",
            Kind::LogGroup => "aws_cloudwatch_log_group",
            Kind::Lb => "aws_lb",
            Kind::LbListener => "aws_lb_listener",
            Kind::KmsKey => "aws_kms_key",
        }
    }

    fn schema_version(self) -> u32 {
        match self {
            Kind::Instance | Kind::SecurityGroup => 1,
            Kind::DbInstance | Kind::SgRule => 2,
            _ => 0,
        }
    }

    /// Base names for blocks of this kind (S3 companions share their bucket's name).
    fn bases(self) -> &'static [&'static str] {
        match self {
            Kind::Vpc => &["main", "shared", "edge"],
            Kind::Subnet => &["private", "public", "data"],
            Kind::SecurityGroup | Kind::SgRule => &["web", "app", "db", "bastion", "lb"],
            Kind::Instance => &["web", "api", "worker", "bastion", "batch"],
            Kind::EbsVolume => &["data", "scratch", "logs", "cache"],
            Kind::S3Bucket | Kind::S3Sse | Kind::S3Pab => {
                &["logs", "assets", "backups", "exports", "uploads"]
            }
            Kind::DbInstance => &["main", "reporting", "orders"],
            Kind::IamRole => &["lambda", "ec2", "ci", "readonly"],
            Kind::IamPolicy => &["read", "write", "deploy", "admin"],
            Kind::Lambda => &["ingest", "resize", "notify", "cleanup"],
            Kind::Sqs => &["jobs", "events", "dlq", "emails"],
            Kind::Dynamo => &["sessions", "orders", "locks", "profiles"],
            Kind::LogGroup => &["app", "lambda", "audit", "vpc_flow"],
            Kind::Lb => &["public", "internal"],
            Kind::LbListener => &["https", "http"],
            Kind::KmsKey => &["data", "logs", "backups"],
        }
    }

    fn tagged(self) -> bool {
        !matches!(self, Kind::SgRule | Kind::S3Sse | Kind::S3Pab)
    }

    /// The blocks this kind's references point at, looked up among earlier blocks.
    fn link_kinds(self) -> [Option<Kind>; 2] {
        match self {
            Kind::Instance | Kind::Lb => [Some(Kind::Subnet), Some(Kind::SecurityGroup)],
            Kind::Subnet | Kind::SecurityGroup => [Some(Kind::Vpc), None],
            Kind::SgRule => [Some(Kind::SecurityGroup), None],
            Kind::DbInstance => [Some(Kind::KmsKey), Some(Kind::SecurityGroup)],
            Kind::EbsVolume | Kind::LogGroup | Kind::Sqs | Kind::Dynamo => {
                [Some(Kind::KmsKey), None]
            }
            Kind::Lambda => [Some(Kind::IamRole), None],
            Kind::LbListener => [Some(Kind::Lb), None],
            _ => [None, None],
        }
    }

    /// The attribute whose change forces replacement, for replace actions.
    fn force_new(self) -> &'static str {
        match self {
            Kind::Instance => "ami",
            Kind::EbsVolume | Kind::Subnet => "availability_zone",
            Kind::S3Bucket | Kind::S3Sse | Kind::S3Pab => "bucket",
            Kind::SecurityGroup | Kind::IamRole | Kind::IamPolicy | Kind::Sqs => "name",
            Kind::Dynamo | Kind::LogGroup | Kind::Lb => "name",
            Kind::SgRule => "from_port",
            Kind::DbInstance => "identifier",
            Kind::Lambda => "function_name",
            Kind::LbListener => "load_balancer_arn",
            Kind::Vpc => "cidr_block",
            Kind::KmsKey => "customer_master_key_spec",
        }
    }
}

// --- Layout: the resource blocks -------------------------------------------------------------

/// One resource block of the configuration, and the instances it has in the plan.
struct Block {
    kind: Kind,
    /// Child module index, or NONE for the root module.
    module: u32,
    /// Global index of the first instance.
    first: u32,
    count: u32,
    repeat: Repeat,
    key_off: u8,
    /// Name: `bases()[base]` and the serial (companions share their bucket's).
    base: u8,
    serial: u32,
    /// Blocks referenced (see [`Kind::link_kinds`]; an S3 companion's first is its bucket).
    links: [u32; 2],
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Repeat {
    Single,
    Count,
    ForEach,
}

struct Layout {
    blocks: Vec<Block>,
    /// Block ranges of the root module and of each child module.
    root: std::ops::Range<usize>,
    modules: Vec<std::ops::Range<usize>>,
}

impl Layout {
    fn new(n: usize, seed: u64) -> Layout {
        let in_modules = if n >= 20 { n / 5 } else { 0 };
        let n_modules = in_modules.div_ceil(MODULE_SIZE);
        let mut blocks = Vec::with_capacity(n / 2 + 8);
        fill(&mut blocks, n - in_modules, NONE, seed);
        let root = 0..blocks.len();
        let mut modules = Vec::with_capacity(n_modules);
        for m in 0..n_modules {
            let share = in_modules / n_modules + usize::from(m < in_modules % n_modules);
            let start = blocks.len();
            fill(&mut blocks, share, m as u32, seed);
            modules.push(start..blocks.len());
        }
        Layout {
            blocks,
            root,
            modules,
        }
    }
}

/// Appends blocks holding `total` instances for one module.
fn fill(blocks: &mut Vec<Block>, total: usize, module: u32, seed: u64) {
    // Foundations first, as a real module would have them.
    const FOUNDATION: [Kind; 5] = [
        Kind::Vpc,
        Kind::Subnet,
        Kind::SecurityGroup,
        Kind::KmsKey,
        Kind::IamRole,
    ];
    let weight_sum: u64 = WEIGHTS.iter().map(|(_, w)| w).sum();
    let mut last = [NONE; KIND_COUNT];
    let mut left = total;
    let mut first = blocks.last().map_or(0, |b: &Block| b.first + b.count);
    let mut drawn = 0;
    while left > 0 {
        let bi = blocks.len() as u32;
        let mut r = Rng::new(seed, S_LAYOUT, u64::from(bi));
        let kind = if drawn < FOUNDATION.len() && total >= 4 * FOUNDATION.len() {
            FOUNDATION[drawn]
        } else {
            let mut x = r.below(weight_sum);
            WEIGHTS
                .iter()
                .find(|(_, w)| {
                    let hit = x < *w;
                    x = x.saturating_sub(*w);
                    hit
                })
                .map_or(Kind::Instance, |(k, _)| *k)
        };
        drawn += 1;
        let (repeat, mut count) = match r.below(100) {
            _ if kind == Kind::Vpc => (Repeat::Single, 1),
            0..=54 => (Repeat::Single, 1),
            55..=79 => (Repeat::Count, 2 + r.below(5) as usize),
            _ => (Repeat::ForEach, 2 + r.below(7) as usize),
        };
        let mut companions = Vec::new();
        if kind == Kind::S3Bucket {
            if r.chance(70) {
                companions.push(Kind::S3Sse);
            }
            if r.chance(75) {
                companions.push(Kind::S3Pab);
            }
        }
        while count * (1 + companions.len()) > left {
            if count > 1 {
                count -= 1;
            } else {
                companions.pop();
            }
        }
        let key_off = r.below(KEYS.len() as u64) as u8;
        let base = r.below(kind.bases().len() as u64) as u8;
        let mut links = [NONE; 2];
        for (slot, lk) in links.iter_mut().zip(kind.link_kinds()) {
            if let Some(lk) = lk {
                *slot = last[lk as usize];
            }
        }
        let mut block = |kind, links| Block {
            kind,
            module,
            first: {
                let f = first;
                first += count as u32;
                f
            },
            count: count as u32,
            repeat,
            key_off,
            base,
            serial: bi,
            links,
        };
        blocks.push(block(kind, links));
        last[kind as usize] = bi;
        for &c in &companions {
            last[c as usize] = blocks.len() as u32;
            blocks.push(block(c, [bi, last[Kind::KmsKey as usize]]));
        }
        left -= count * (1 + companions.len());
    }
}

// --- Instances -------------------------------------------------------------------------------

#[derive(Clone, Copy, PartialEq, Eq)]
enum Act {
    Create,
    Update,
    Delete,
    Replace,
    NoOp,
}

impl Act {
    /// Whether the object is new, so its computed attributes are unknown.
    fn is_new(self) -> bool {
        matches!(self, Act::Create | Act::Replace)
    }
}

fn action(seed: u64, gi: u32) -> Act {
    match Rng::new(seed, S_ACTION, u64::from(gi)).below(1000) {
        0..=799 => Act::Create,
        800..=899 => Act::Update,
        900..=929 => Act::Delete,
        930..=949 => Act::Replace,
        _ => Act::NoOp,
    }
}

enum Key {
    None,
    Int(u32),
    Str(&'static str),
}

struct Gen<'a> {
    lay: &'a Layout,
    seed: u64,
}

impl Gen<'_> {
    fn block_name(&self, b: &Block) -> String {
        format!("{}_{}", b.kind.bases()[b.base as usize], b.serial)
    }

    fn key(&self, b: &Block, j: u32) -> Key {
        match b.repeat {
            Repeat::Single => Key::None,
            Repeat::Count => Key::Int(j),
            Repeat::ForEach => Key::Str(KEYS[(b.key_off as usize + j as usize) % KEYS.len()]),
        }
    }

    fn module_address(&self, b: &Block) -> Option<String> {
        (b.module != NONE).then(|| format!("module.app_{}", b.module))
    }

    fn address(&self, b: &Block, j: u32) -> String {
        let mut s = String::with_capacity(64);
        if let Some(m) = self.module_address(b) {
            s.push_str(&m);
            s.push('.');
        }
        s.push_str(b.kind.type_name());
        s.push('.');
        s.push_str(&self.block_name(b));
        match self.key(b, j) {
            Key::None => {}
            Key::Int(i) => s.push_str(&format!("[{i}]")),
            Key::Str(k) => s.push_str(&format!("[\"{k}\"]")),
        }
        s
    }

    fn env(&self, b: &Block) -> &'static str {
        if b.module == NONE {
            "prod"
        } else {
            ENVS[b.module as usize % ENVS.len()]
        }
    }

    /// A cloud name for an instance: `prod-web-12`, `prod-web-12-1`, `prod-web-12-orders`.
    fn phys(&self, b: &Block, j: u32) -> String {
        let base = b.kind.bases()[b.base as usize].replace('_', "-");
        let env = self.env(b);
        match self.key(b, j) {
            Key::None => format!("{env}-{base}-{}", b.serial),
            Key::Int(i) => format!("{env}-{base}-{}-{i}", b.serial),
            Key::Str(k) => format!("{env}-{base}-{}-{k}", b.serial),
        }
    }

    fn bucket_name(&self, b: &Block, j: u32) -> String {
        format!("acme-{}", self.phys(b, j))
    }

    /// The `id` and `arn` (when the type has one) of an existing instance.
    fn ident(&self, bi: u32, j: u32) -> (String, Option<String>) {
        let b = &self.lay.blocks[bi as usize];
        let gi = b.first + j;
        let mut r = Rng::new(self.seed, S_ID, u64::from(gi));
        let ec2 = |prefix: &str, what: &str, r: &mut Rng| {
            let id = format!("{prefix}-0{}", r.hex(16));
            let arn = format!("arn:aws:ec2:{REGION}:{ACCOUNT}:{what}/{id}");
            (id, Some(arn))
        };
        let name = self.phys(b, j);
        match b.kind {
            Kind::Vpc => ec2("vpc", "vpc", &mut r),
            Kind::Subnet => ec2("subnet", "subnet", &mut r),
            Kind::SecurityGroup => ec2("sg", "security-group", &mut r),
            Kind::Instance => ec2("i", "instance", &mut r),
            Kind::EbsVolume => ec2("vol", "volume", &mut r),
            Kind::SgRule => (format!("sgrule-{}", r.below(4_000_000_000)), None),
            Kind::S3Bucket => {
                let bucket = self.bucket_name(b, j);
                let arn = format!("arn:aws:s3:::{bucket}");
                (bucket, Some(arn))
            }
            Kind::S3Sse | Kind::S3Pab => (self.bucket_name(b, j), None),
            Kind::DbInstance => (
                format!("db-{}", r.upper(26)),
                Some(format!("arn:aws:rds:{REGION}:{ACCOUNT}:db:{name}")),
            ),
            Kind::IamRole => {
                let arn = format!("arn:aws:iam::{ACCOUNT}:role/{name}");
                (name, Some(arn))
            }
            Kind::IamPolicy => {
                let arn = format!("arn:aws:iam::{ACCOUNT}:policy/{name}");
                (arn.clone(), Some(arn))
            }
            Kind::Lambda => {
                let arn = format!("arn:aws:lambda:{REGION}:{ACCOUNT}:function:{name}");
                (name, Some(arn))
            }
            Kind::Sqs => (
                format!("https://sqs.{REGION}.amazonaws.com/{ACCOUNT}/{name}"),
                Some(format!("arn:aws:sqs:{REGION}:{ACCOUNT}:{name}")),
            ),
            Kind::Dynamo => {
                let arn = format!("arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/{name}");
                (name, Some(arn))
            }
            Kind::LogGroup => {
                let lg = format!("/aws/app/{name}");
                let arn = format!("arn:aws:logs:{REGION}:{ACCOUNT}:log-group:{lg}");
                (lg, Some(arn))
            }
            Kind::Lb => {
                let arn = format!(
                    "arn:aws:elasticloadbalancing:{REGION}:{ACCOUNT}:loadbalancer/app/{name}/{}",
                    r.hex(16)
                );
                (arn.clone(), Some(arn))
            }
            Kind::LbListener => {
                let arn = format!(
                    "arn:aws:elasticloadbalancing:{REGION}:{ACCOUNT}:listener/app/{name}/{}/{}",
                    r.hex(16),
                    r.hex(16)
                );
                (arn.clone(), Some(arn))
            }
            Kind::KmsKey => {
                let id = format!(
                    "{}-{}-{}-{}-{}",
                    r.hex(8),
                    r.hex(4),
                    r.hex(4),
                    r.hex(4),
                    r.hex(12)
                );
                let arn = format!("arn:aws:kms:{REGION}:{ACCOUNT}:key/{id}");
                (id, Some(arn))
            }
        }
    }

    /// The instance that link `slot` of block `b`, instance `j`, points at.
    fn target(&self, b: &Block, j: u32, slot: usize) -> Option<(u32, u32)> {
        let tbi = b.links[slot];
        if tbi == NONE {
            return None;
        }
        let t = &self.lay.blocks[tbi as usize];
        Some((tbi, if t.count == b.count { j } else { 0 }))
    }

    /// The value and configuration references of an attribute set from another resource.
    /// The value is `None` (unknown) when the target is new in this plan.
    fn reference(
        &self,
        b: &Block,
        j: u32,
        slot: usize,
        attr: &str,
        act: Act,
    ) -> Option<(Option<Value>, Vec<String>)> {
        let (tbi, tj) = self.target(b, j, slot)?;
        let t = &self.lay.blocks[tbi as usize];
        let tname = format!("{}.{}", t.kind.type_name(), self.block_name(t));
        let refs = match b.repeat {
            Repeat::Count if t.count == b.count => vec![tname, "count.index".to_owned()],
            Repeat::ForEach if t.count == b.count => vec![tname, "each.key".to_owned()],
            _ => vec![format!("{tname}.{attr}"), tname],
        };
        let tact = action(self.seed, t.first + tj);
        let known = !tact.is_new() || matches!(act, Act::NoOp | Act::Delete);
        let value = known.then(|| {
            let (id, arn) = self.ident(tbi, tj);
            Value::String(if attr == "arn" { arn.unwrap_or(id) } else { id })
        });
        Some((value, refs))
    }

    // --- Sections ----------------------------------------------------------------------------

    fn header(&self, w: &mut impl Write) -> io::Result<()> {
        w.write_all(br#"{"format_version":"1.2","terraform_version":"1.9.8","variables":{"#)?;
        write!(
            w,
            r#""db_password":{{"value":{}}},"prefix":{{"value":"acme"}},"region":{{"value":"{REGION}"}}}},"#,
            Value::String(self.password(NONE))
        )
    }

    fn password(&self, module: u32) -> String {
        let mut r = Rng::new(self.seed, 99, u64::from(module));
        format!("Pw-{}-{}", r.hex(12), r.upper(6))
    }

    fn planned_values(&self, w: &mut impl Write) -> io::Result<()> {
        w.write_all(br#""planned_values":{"root_module":{"resources":["#)?;
        self.values_resources(w, self.lay.root.clone())?;
        w.write_all(br#"],"child_modules":["#)?;
        for (m, range) in self.lay.modules.iter().enumerate() {
            if m > 0 {
                w.write_all(b",")?;
            }
            w.write_all(br#"{"resources":["#)?;
            self.values_resources(w, range.clone())?;
            write!(w, r#"],"address":"module.app_{m}"}}"#)?;
        }
        w.write_all(b"]}},")
    }

    fn values_resources(
        &self,
        w: &mut impl Write,
        range: std::ops::Range<usize>,
    ) -> io::Result<()> {
        let mut first = true;
        for bi in range {
            let b = &self.lay.blocks[bi];
            for j in 0..b.count {
                let act = action(self.seed, b.first + j);
                if act == Act::Delete {
                    continue;
                }
                if !first {
                    w.write_all(b",")?;
                }
                first = false;
                let a = self.attrs(bi as u32, j, act, !act.is_new(), false);
                w.write_all(br#"{"address":"#)?;
                json_to(w, &self.address(b, j))?;
                self.identity(w, b, j)?;
                write!(
                    w,
                    r#","schema_version":{},"values":"#,
                    b.kind.schema_version()
                )?;
                json_to(w, &a.after)?;
                w.write_all(br#","sensitive_values":"#)?;
                json_to(w, &a.sensitive)?;
                w.write_all(b"}")?;
            }
        }
        Ok(())
    }

    /// `,"mode":...,"type":...,"name":...[,"index":...],"provider_name":...`
    fn identity(&self, w: &mut impl Write, b: &Block, j: u32) -> io::Result<()> {
        write!(
            w,
            r#","mode":"managed","type":"{}","name":"{}""#,
            b.kind.type_name(),
            self.block_name(b)
        )?;
        match self.key(b, j) {
            Key::None => {}
            Key::Int(i) => write!(w, r#","index":{i}"#)?,
            Key::Str(k) => write!(w, r#","index":"{k}""#)?,
        }
        write!(w, r#","provider_name":"{PROVIDER}""#)
    }

    fn resource_changes(&self, w: &mut impl Write) -> io::Result<()> {
        w.write_all(br#""resource_changes":["#)?;
        let mut first = true;
        for (bi, b) in self.lay.blocks.iter().enumerate() {
            for j in 0..b.count {
                if !first {
                    w.write_all(b",")?;
                }
                first = false;
                self.change(w, bi as u32, j)?;
            }
        }
        w.write_all(b"],")
    }

    fn change(&self, w: &mut impl Write, bi: u32, j: u32) -> io::Result<()> {
        let b = &self.lay.blocks[bi as usize];
        let act = action(self.seed, b.first + j);
        w.write_all(br#"{"address":"#)?;
        json_to(w, &self.address(b, j))?;
        if let Some(m) = self.module_address(b) {
            write!(w, r#","module_address":"{m}""#)?;
        }
        self.identity(w, b, j)?;
        let actions = match act {
            Act::Create => r#"["create"]"#,
            Act::Update => r#"["update"]"#,
            Act::Delete => r#"["delete"]"#,
            Act::Replace => r#"["delete","create"]"#,
            Act::NoOp => r#"["no-op"]"#,
        };
        write!(w, r#","change":{{"actions":{actions},"before":"#)?;
        let mut reason = None;
        let mut replace_path = None;
        match act {
            Act::Create => {
                let a = self.attrs(bi, j, act, false, false);
                w.write_all(b"null,\"after\":")?;
                json_to(w, &a.after)?;
                w.write_all(br#","after_unknown":"#)?;
                json_to(w, &a.unknown)?;
                w.write_all(br#","before_sensitive":false,"after_sensitive":"#)?;
                json_to(w, &a.sensitive)?;
            }
            Act::NoOp => {
                let a = self.attrs(bi, j, act, true, false);
                write_sides(
                    w,
                    [&a.after, &a.after, &Map::new(), &a.sensitive, &a.sensitive],
                )?;
            }
            Act::Delete => {
                let a = self.attrs(bi, j, act, true, false);
                json_to(w, &a.after)?;
                w.write_all(br#","after":null,"after_unknown":{},"before_sensitive":"#)?;
                json_to(w, &a.sensitive)?;
                w.write_all(br#","after_sensitive":false"#)?;
                reason = Some(if b.repeat == Repeat::Single {
                    "delete_because_no_resource_config"
                } else if b.repeat == Repeat::Count {
                    "delete_because_count_index"
                } else {
                    "delete_because_each_key"
                });
            }
            Act::Update => {
                let a = self.attrs(bi, j, act, true, false);
                let before = self.previous(b, &a.after);
                write_sides(
                    w,
                    [&before, &a.after, &a.unknown, &a.sensitive, &a.sensitive],
                )?;
            }
            Act::Replace => {
                let old = self.attrs(bi, j, Act::NoOp, true, false);
                let a = self.attrs(bi, j, act, false, false);
                let attr = b.kind.force_new();
                let mut before = old.after;
                if let Some(v) = before.get_mut(attr) {
                    *v = mutate(v);
                }
                write_sides(
                    w,
                    [&before, &a.after, &a.unknown, &old.sensitive, &a.sensitive],
                )?;
                reason = Some("replace_because_cannot_update");
                replace_path = Some(attr);
            }
        }
        if let Some(p) = replace_path {
            write!(w, r#","replace_paths":[["{p}"]]"#)?;
        }
        w.write_all(b"}")?;
        if let Some(r) = reason {
            write!(w, r#","action_reason":"{r}""#)?;
        }
        w.write_all(b"}")
    }

    /// The object before an in-place update: a tag or a setting differs.
    fn previous(&self, b: &Block, after: &Map<String, Value>) -> Map<String, Value> {
        let mut before = after.clone();
        let mut changed = false;
        for key in ["tags", "tags_all"] {
            if let Some(Value::Object(tags)) = before.get_mut(key) {
                tags.insert("CostCenter".into(), Value::from("cc-0000"));
                changed = true;
            }
        }
        match b.kind {
            Kind::Instance => {
                before.insert("instance_type".into(), Value::from("t2.micro"));
            }
            Kind::SgRule => {
                before.insert("description".into(), Value::from("temporary access"));
            }
            Kind::S3Pab => {
                before.insert("block_public_policy".into(), Value::from(false));
            }
            _ if !changed => {
                before.insert("description".into(), Value::from("previous"));
            }
            _ => {}
        }
        before
    }

    fn configuration(&self, w: &mut impl Write) -> io::Result<()> {
        let default_tags = json!({"ManagedBy": "terraform"});
        let provider = json!({"aws": {
            "name": "aws",
            "full_name": PROVIDER,
            "version_constraint": "~> 5.0",
            "expressions": {
                "region": {"constant_value": REGION},
                "default_tags": [{"tags": {"constant_value": default_tags}}],
            },
        }});
        w.write_all(br#""configuration":{"provider_config":"#)?;
        json_to(w, &provider)?;
        w.write_all(br#","root_module":{"resources":["#)?;
        self.config_resources(w, self.lay.root.clone())?;
        w.write_all(br#"],"module_calls":{"#)?;
        for (m, range) in self.lay.modules.iter().enumerate() {
            if m > 0 {
                w.write_all(b",")?;
            }
            let env = ENVS[m % ENVS.len()];
            write!(
                w,
                r#""app_{m}":{{"source":"./modules/app","expressions":{{"environment":{{"constant_value":"{env}"}},"db_password":{{"references":["var.db_password"]}}}},"module":{{"resources":["#
            )?;
            self.config_resources(w, range.clone())?;
            w.write_all(
                br#"],"variables":{"db_password":{"sensitive":true},"environment":{"description":"Deployment environment"}}}}"#,
            )?;
        }
        w.write_all(
            br#"},"variables":{"db_password":{"sensitive":true},"prefix":{"default":"acme"},"region":{"default":"us-east-1"}}}}"#,
        )
    }

    fn config_resources(
        &self,
        w: &mut impl Write,
        range: std::ops::Range<usize>,
    ) -> io::Result<()> {
        for bi in range.clone() {
            let b = &self.lay.blocks[bi];
            if bi > range.start {
                w.write_all(b",")?;
            }
            let name = self.block_name(b);
            let key = match b.module {
                NONE => "aws".to_owned(),
                m => format!("app_{m}:aws"),
            };
            let a = self.attrs(bi as u32, 0, Act::Create, false, true);
            write!(
                w,
                r#"{{"address":"{t}.{name}","mode":"managed","type":"{t}","name":"{name}","provider_config_key":"{key}","expressions":"#,
                t = b.kind.type_name()
            )?;
            json_to(w, &a.exprs)?;
            write!(w, r#","schema_version":{}"#, b.kind.schema_version())?;
            match b.repeat {
                Repeat::Single => {}
                Repeat::Count => {
                    write!(w, r#","count_expression":{{"constant_value":{}}}"#, b.count)?
                }
                Repeat::ForEach => {
                    w.write_all(br#","for_each_expression":{"references":["local.shards"]}"#)?
                }
            }
            w.write_all(b"}")?;
        }
        Ok(())
    }

    // --- Attributes ------------------------------------------------------------------------

    /// The attributes of instance `j` of block `bi`. `existing`: computed attributes are known
    /// (the object exists); otherwise they are unknown. `exprs`: also build the configuration
    /// expressions.
    fn attrs(&self, bi: u32, j: u32, act: Act, existing: bool, exprs: bool) -> Attrs {
        let b = &self.lay.blocks[bi as usize];
        let mut r = Rng::new(self.seed, S_BLOCK, u64::from(bi));
        // Values of computed attributes draw from their own stream, so that `r` makes the
        // same decisions whether or not the object exists yet.
        let mut idr = Rng::new(self.seed, S_ID + 1, u64::from(b.first + j));
        let mut a = Attrs {
            existing,
            want_exprs: exprs,
            ..Attrs::default()
        };
        let (id, arn) = if existing {
            self.ident(bi, j)
        } else {
            (String::new(), None)
        };
        let name = self.phys(b, j);
        let name_ref = b.repeat != Repeat::Single;
        let set_name = |a: &mut Attrs, key: &str, value: String| {
            if name_ref {
                let idx = if b.repeat == Repeat::Count {
                    "count.index"
                } else {
                    "each.key"
                };
                a.arg_ref(
                    key,
                    Some(Value::String(value)),
                    vec!["var.environment".into(), idx.into()],
                );
            } else {
                a.arg(key, Value::String(value));
            }
        };
        let refer = |a: &mut Attrs, slot: usize, key: &str, attr: &str| -> bool {
            match self.reference(b, j, slot, attr, act) {
                Some((value, refs)) => {
                    a.arg_ref(key, value, refs);
                    true
                }
                None => false,
            }
        };
        match b.kind {
            Kind::Vpc => {
                let cidr = format!("10.{}.0.0/16", b.serial % 250);
                a.arg("cidr_block", Value::from(cidr));
                a.arg("enable_dns_hostnames", Value::from(true));
                a.preset("enable_dns_support", Value::from(true));
                a.preset("instance_tenancy", Value::from("default"));
                let mut ids = Rng::new(self.seed, S_ID + 10, u64::from(bi));
                a.computed("default_security_group_id", || {
                    Value::from(format!("sg-0{}", ids.hex(16)))
                });
                a.computed("main_route_table_id", || {
                    Value::from(format!("rtb-0{}", ids.hex(16)))
                });
                a.computed("owner_id", || Value::from(ACCOUNT));
            }
            Kind::Subnet => {
                if !refer(&mut a, 0, "vpc_id", "id") {
                    a.arg_ref(
                        "vpc_id",
                        Some(Value::from("vpc-0a1b2c3d4e5f60718")),
                        vec!["var.vpc_id".into()],
                    );
                }
                let cidr = format!("10.{}.{}.0/24", b.serial % 250, j % 250);
                a.arg("cidr_block", Value::from(cidr));
                a.arg(
                    "availability_zone",
                    Value::from(r.pick(&["us-east-1a", "us-east-1b", "us-east-1c"])),
                );
                a.arg("map_public_ip_on_launch", Value::from(r.chance(20)));
                a.computed("availability_zone_id", || Value::from("use1-az1"));
                a.computed("owner_id", || Value::from(ACCOUNT));
            }
            Kind::SecurityGroup => {
                set_name(&mut a, "name", name.clone());
                a.arg(
                    "description",
                    Value::from(format!("Security group for {name}")),
                );
                if !refer(&mut a, 0, "vpc_id", "id") {
                    a.arg_ref(
                        "vpc_id",
                        Some(Value::from("vpc-0a1b2c3d4e5f60718")),
                        vec!["var.vpc_id".into()],
                    );
                }
                let mut ingress = Vec::new();
                for _ in 0..1 + u64::from(r.chance(30)) {
                    let (port, cidr, desc) = match r.below(100) {
                        0..=7 => (22, "0.0.0.0/0", "ssh"),
                        8..=27 => (22, "10.0.0.0/8", "ssh from vpn"),
                        28..=59 => (443, "0.0.0.0/0", "https"),
                        60..=79 => (5432, "10.0.0.0/16", "postgres"),
                        80..=89 => (80, "0.0.0.0/0", "http"),
                        _ => (3389, "0.0.0.0/0", "rdp"),
                    };
                    ingress.push(rule(port, port, "tcp", cidr, desc));
                }
                a.arg_blocks("ingress", ingress);
                a.arg_blocks("egress", vec![rule(0, 0, "-1", "0.0.0.0/0", "")]);
                a.preset("revoke_rules_on_delete", Value::from(false));
                a.computed("owner_id", || Value::from(ACCOUNT));
            }
            Kind::SgRule => {
                let ingress = r.chance(80);
                a.arg(
                    "type",
                    Value::from(if ingress { "ingress" } else { "egress" }),
                );
                let (port, cidr) = match r.below(100) {
                    0..=5 => (22, "0.0.0.0/0"),
                    6..=40 => (443, "0.0.0.0/0"),
                    41..=70 => (8080, "10.0.0.0/8"),
                    _ => (6379, "10.20.0.0/16"),
                };
                a.arg("from_port", Value::from(port));
                a.arg("to_port", Value::from(port));
                a.arg("protocol", Value::from("tcp"));
                a.arg("cidr_blocks", json!([cidr]));
                a.arg("description", Value::from(format!("port {port}")));
                if !refer(&mut a, 0, "security_group_id", "id") {
                    a.arg_ref(
                        "security_group_id",
                        Some(Value::from("sg-0a1b2c3d4e5f60718")),
                        vec!["var.sg_id".into()],
                    );
                }
                a.preset("ipv6_cidr_blocks", Value::Null);
                a.preset("prefix_list_ids", Value::Null);
                a.preset("self", Value::from(false));
                a.computed("source_security_group_id", || Value::Null);
                let rule_id = format!(
                    "sgr-0{}",
                    Rng::new(self.seed, S_ID, u64::from(b.first + j)).hex(16)
                );
                a.computed("security_group_rule_id", || Value::from(rule_id));
            }
            Kind::Instance => {
                let ami = format!("ami-0{}", r.hex(16));
                a.arg("ami", Value::from(ami));
                a.arg(
                    "instance_type",
                    Value::from(r.pick(&[
                        "t3.micro",
                        "t3.small",
                        "t3.medium",
                        "m5.large",
                        "m6i.xlarge",
                        "c6i.2xlarge",
                    ])),
                );
                a.arg("associate_public_ip_address", Value::from(r.chance(15)));
                let enc = r.below(100);
                let size = r.pick(&[8, 20, 30, 50, 100]);
                let mut disk = json!({"delete_on_termination": true, "volume_size": size, "volume_type": "gp3"});
                if enc < 80 {
                    disk["encrypted"] = Value::from(true);
                } else if enc < 92 {
                    disk["encrypted"] = Value::from(false);
                }
                let mut disk_expr = disk.clone();
                let mut disk_unknown = Map::new();
                if existing {
                    if enc >= 92 {
                        disk["encrypted"] = Value::from(false);
                    }
                    disk["device_name"] = Value::from("/dev/xvda");
                    disk["iops"] = Value::from(3000);
                    disk["throughput"] = Value::from(125);
                    disk["volume_id"] = Value::from(format!(
                        "vol-0{}",
                        Rng::new(self.seed, S_ID + 1, u64::from(b.first + j)).hex(16)
                    ));
                } else {
                    for k in [
                        "device_name",
                        "iops",
                        "kms_key_id",
                        "throughput",
                        "volume_id",
                    ] {
                        disk_unknown.insert(k.into(), Value::from(true));
                    }
                    if enc >= 92 {
                        disk_unknown.insert("encrypted".into(), Value::from(true));
                    }
                }
                if let Value::Object(m) = &mut disk_expr {
                    m.retain(|k, _| k != "delete_on_termination");
                }
                a.after
                    .insert("root_block_device".into(), Value::Array(vec![disk]));
                a.unknown
                    .insert("root_block_device".into(), json!([disk_unknown]));
                if exprs {
                    a.exprs
                        .insert("root_block_device".into(), json!([block_expr(&disk_expr)]));
                }
                let tokens = if r.chance(70) { "required" } else { "optional" };
                a.arg_blocks(
                    "metadata_options",
                    vec![json!({"http_endpoint": "enabled", "http_put_response_hop_limit": 1, "http_tokens": tokens})],
                );
                a.arg("monitoring", Value::from(r.chance(30)));
                refer(&mut a, 0, "subnet_id", "id");
                if let Some((value, refs)) = self.reference(b, j, 1, "id", act) {
                    a.arg_ref("vpc_security_group_ids", value.map(|v| json!([v])), refs);
                }
                a.computed("private_ip", || {
                    Value::from(format!("10.0.{}.{}", j % 250, b.serial % 250))
                });
            }
            Kind::EbsVolume => {
                a.arg(
                    "availability_zone",
                    Value::from(r.pick(&["us-east-1a", "us-east-1b", "us-east-1c"])),
                );
                a.arg("size", Value::from(r.pick(&[8, 20, 50, 100, 200, 500])));
                let kind = r.pick(&["gp3", "gp3", "gp2", "io2", "st1"]);
                a.arg("type", Value::from(kind));
                if kind == "io2" {
                    a.arg("iops", Value::from(4000));
                } else {
                    a.computed("iops", || Value::from(if kind == "gp3" { 3000 } else { 0 }));
                }
                let enc = r.below(100);
                let cmk = r.chance(50);
                if enc < 80 {
                    a.arg("encrypted", Value::from(true));
                    if !(cmk && refer(&mut a, 0, "kms_key_id", "arn")) {
                        a.computed("kms_key_id", || {
                            Value::from(format!("arn:aws:kms:{REGION}:{ACCOUNT}:alias/aws/ebs"))
                        });
                    }
                } else if enc < 93 {
                    a.arg("encrypted", Value::from(false));
                    a.computed("kms_key_id", || Value::from(""));
                } else {
                    a.computed("encrypted", || Value::from(false));
                    a.computed("kms_key_id", || Value::from(""));
                }
                a.preset("final_snapshot", Value::from(false));
                a.preset("multi_attach_enabled", Value::from(false));
                a.computed("throughput", || {
                    Value::from(if kind == "gp3" { 125 } else { 0 })
                });
            }
            Kind::S3Bucket => {
                let bucket = self.bucket_name(b, j);
                let via_var = r.chance(30);
                if via_var || name_ref {
                    let mut refs = vec!["var.prefix".to_owned()];
                    if name_ref {
                        refs.push(
                            if b.repeat == Repeat::Count {
                                "count.index"
                            } else {
                                "each.key"
                            }
                            .into(),
                        );
                    }
                    a.arg_ref("bucket", Some(Value::from(bucket.clone())), refs);
                } else {
                    a.arg("bucket", Value::from(bucket.clone()));
                }
                a.arg("force_destroy", Value::from(r.chance(20)));
                match r.below(100) {
                    0..=39 => a.arg_blocks(
                        "versioning",
                        vec![json!({"enabled": true, "mfa_delete": false})],
                    ),
                    40..=49 => a.arg_blocks(
                        "versioning",
                        vec![json!({"enabled": false, "mfa_delete": false})],
                    ),
                    _ => a.computed(
                        "versioning",
                        || json!([{"enabled": false, "mfa_delete": false}]),
                    ),
                }
                a.computed("hosted_zone_id", || Value::from("Z3AQBSTGFYJSTF"));
                a.computed("region", || Value::from(REGION));
                a.computed("server_side_encryption_configuration", || {
                    json!([{"rule": [{"apply_server_side_encryption_by_default": [{"kms_master_key_id": "", "sse_algorithm": "AES256"}], "bucket_key_enabled": false}]}])
                });
            }
            Kind::S3Sse => {
                self.companion_bucket(&mut a, b, j, act);
                let kms = r.chance(60);
                let by_default = if kms {
                    json!({"kms_master_key_id": format!("arn:aws:kms:{REGION}:{ACCOUNT}:alias/s3"), "sse_algorithm": "aws:kms"})
                } else {
                    json!({"kms_master_key_id": "", "sse_algorithm": "AES256"})
                };
                a.arg_blocks(
                    "rule",
                    vec![json!({"apply_server_side_encryption_by_default": [by_default], "bucket_key_enabled": kms})],
                );
                a.preset("expected_bucket_owner", Value::from(""));
            }
            Kind::S3Pab => {
                self.companion_bucket(&mut a, b, j, act);
                let open = r.chance(15);
                for k in [
                    "block_public_acls",
                    "block_public_policy",
                    "ignore_public_acls",
                    "restrict_public_buckets",
                ] {
                    let v = !open || (!k.contains("policy") && !r.chance(50));
                    a.arg(k, Value::from(v));
                }
            }
            Kind::DbInstance => {
                set_name(&mut a, "identifier", name.clone());
                let pg = r.chance(60);
                a.arg("engine", Value::from(if pg { "postgres" } else { "mysql" }));
                a.arg(
                    "engine_version",
                    Value::from(if pg { "16.3" } else { "8.0.35" }),
                );
                a.arg(
                    "instance_class",
                    Value::from(r.pick(&["db.t3.medium", "db.r6g.large", "db.m6g.xlarge"])),
                );
                a.arg("allocated_storage", Value::from(r.pick(&[20, 100, 500])));
                a.arg("storage_type", Value::from("gp3"));
                let encrypted = r.chance(85);
                a.arg("storage_encrypted", Value::from(encrypted));
                a.arg("publicly_accessible", Value::from(r.chance(7)));
                a.arg("multi_az", Value::from(r.chance(50)));
                a.arg(
                    "backup_retention_period",
                    Value::from(r.pick(&[0, 7, 14, 35])),
                );
                a.arg("deletion_protection", Value::from(r.chance(60)));
                a.arg("skip_final_snapshot", Value::from(r.chance(40)));
                a.arg("db_name", Value::from("app"));
                a.arg("username", Value::from("app_admin"));
                a.arg_ref(
                    "password",
                    Some(Value::from(self.password(b.module))),
                    vec!["var.db_password".into()],
                );
                a.sensitive.insert("password".into(), Value::from(true));
                if !(encrypted && r.chance(50) && refer(&mut a, 0, "kms_key_id", "arn")) {
                    a.computed("kms_key_id", || {
                        Value::from(if encrypted {
                            format!("arn:aws:kms:{REGION}:{ACCOUNT}:alias/aws/rds")
                        } else {
                            String::new()
                        })
                    });
                }
                a.arg("port", Value::from(if pg { 5432 } else { 3306 }));
                a.computed("endpoint", || {
                    Value::from(format!("{name}.c9akciq32.{REGION}.rds.amazonaws.com:5432"))
                });
            }
            Kind::IamRole => {
                set_name(&mut a, "name", name.clone());
                let principal = match r.below(100) {
                    0..=44 => json!({"Service": "lambda.amazonaws.com"}),
                    45..=89 => json!({"Service": "ec2.amazonaws.com"}),
                    90..=95 => json!({"AWS": "arn:aws:iam::999999999999:root"}),
                    _ => json!({"AWS": "*"}),
                };
                let doc = json!({"Version": "2012-10-17", "Statement": [{"Action": "sts:AssumeRole", "Effect": "Allow", "Principal": principal}]});
                a.arg("assume_role_policy", Value::from(doc.to_string()));
                a.preset("max_session_duration", Value::from(3600));
                a.preset("path", Value::from("/"));
                a.computed("unique_id", || {
                    Value::from(format!("AROA{}", idr.upper(17)))
                });
                a.computed("create_date", || Value::from("2024-03-01T09:30:00Z"));
            }
            Kind::IamPolicy => {
                set_name(&mut a, "name", name.clone());
                a.preset("path", Value::from("/"));
                let statement = match r.below(100) {
                    0..=9 => json!({"Action": "*", "Effect": "Allow", "Resource": "*"}),
                    10..=24 => json!({"Action": "s3:*", "Effect": "Allow", "Resource": "*"}),
                    25..=59 => {
                        json!({"Action": ["s3:GetObject", "s3:ListBucket"], "Effect": "Allow", "Resource": [format!("arn:aws:s3:::acme-{name}"), format!("arn:aws:s3:::acme-{name}/*")]})
                    }
                    _ => {
                        json!({"Action": ["sqs:SendMessage", "sqs:ReceiveMessage"], "Effect": "Allow", "Resource": format!("arn:aws:sqs:{REGION}:{ACCOUNT}:{name}")})
                    }
                };
                let doc = json!({"Version": "2012-10-17", "Statement": [statement]});
                a.arg("policy", Value::from(doc.to_string()));
                a.computed("policy_id", || {
                    Value::from(format!("ANPA{}", idr.upper(17)))
                });
                a.computed("attachment_count", || Value::from(1));
            }
            Kind::Lambda => {
                set_name(&mut a, "function_name", name.clone());
                if !refer(&mut a, 0, "role", "arn") {
                    a.arg(
                        "role",
                        Value::from(format!("arn:aws:iam::{ACCOUNT}:role/lambda-exec")),
                    );
                }
                let runtime = r.pick(&[
                    "python3.12",
                    "nodejs20.x",
                    "python3.11",
                    "java21",
                    "python3.8",
                    "nodejs16.x",
                ]);
                a.arg("runtime", Value::from(runtime));
                a.arg(
                    "handler",
                    Value::from(if runtime.starts_with("python") {
                        "app.handler"
                    } else {
                        "index.handler"
                    }),
                );
                a.arg("memory_size", Value::from(r.pick(&[128, 256, 512, 1024])));
                a.arg("timeout", Value::from(r.pick(&[3, 30, 300, 900])));
                a.arg(
                    "filename",
                    Value::from(format!("build/{}.zip", b.kind.bases()[b.base as usize])),
                );
                a.arg("architectures", json!([r.pick(&["arm64", "x86_64"])]));
                if r.chance(60) {
                    a.arg_blocks(
                        "environment",
                        vec![json!({"variables": {"LOG_LEVEL": "info", "STAGE": self.env(b)}})],
                    );
                }
                a.arg_blocks(
                    "tracing_config",
                    vec![json!({"mode": if r.chance(50) { "Active" } else { "PassThrough" }})],
                );
                a.preset("package_type", Value::from("Zip"));
                a.preset("reserved_concurrent_executions", Value::from(-1));
                a.computed("version", || Value::from("$LATEST"));
            }
            Kind::Sqs => {
                let fifo = r.chance(15);
                set_name(
                    &mut a,
                    "name",
                    if fifo {
                        format!("{name}.fifo")
                    } else {
                        name.clone()
                    },
                );
                if fifo {
                    a.arg("fifo_queue", Value::from(true));
                }
                a.arg(
                    "message_retention_seconds",
                    Value::from(r.pick(&[345_600, 1_209_600])),
                );
                a.arg(
                    "visibility_timeout_seconds",
                    Value::from(r.pick(&[30, 300])),
                );
                a.preset("delay_seconds", Value::from(0));
                match r.below(100) {
                    0..=24 if refer(&mut a, 0, "kms_master_key_id", "arn") => {}
                    0..=84 => a.arg("sqs_managed_sse_enabled", Value::from(true)),
                    _ => a.arg("sqs_managed_sse_enabled", Value::from(false)),
                }
                a.computed("url", || {
                    Value::from(format!(
                        "https://sqs.{REGION}.amazonaws.com/{ACCOUNT}/{name}"
                    ))
                });
            }
            Kind::Dynamo => {
                set_name(&mut a, "name", name.clone());
                let provisioned = r.chance(30);
                a.arg(
                    "billing_mode",
                    Value::from(if provisioned {
                        "PROVISIONED"
                    } else {
                        "PAY_PER_REQUEST"
                    }),
                );
                if provisioned {
                    a.arg("read_capacity", Value::from(5));
                    a.arg("write_capacity", Value::from(5));
                }
                a.arg("hash_key", Value::from("pk"));
                a.arg_blocks("attribute", vec![json!({"name": "pk", "type": "S"})]);
                a.arg_blocks(
                    "point_in_time_recovery",
                    vec![json!({"enabled": r.chance(70)})],
                );
                if r.chance(50) {
                    match self.reference(b, j, 0, "arn", act) {
                        Some((Some(arn), _)) => a.arg_blocks(
                            "server_side_encryption",
                            vec![json!({"enabled": true, "kms_key_arn": arn})],
                        ),
                        _ => a.arg_blocks("server_side_encryption", vec![json!({"enabled": true})]),
                    }
                }
                a.arg("deletion_protection_enabled", Value::from(r.chance(50)));
                a.preset("table_class", Value::from("STANDARD"));
            }
            Kind::LogGroup => {
                let lg = format!("/aws/app/{name}");
                if name_ref {
                    let idx = if b.repeat == Repeat::Count {
                        "count.index"
                    } else {
                        "each.key"
                    };
                    a.arg_ref(
                        "name",
                        Some(Value::from(lg)),
                        vec!["var.environment".into(), idx.into()],
                    );
                } else {
                    a.arg("name", Value::from(lg));
                }
                let days = r.pick(&[0, 14, 30, 90, 365, 0]);
                if days > 0 {
                    a.arg("retention_in_days", Value::from(days));
                } else {
                    a.preset("retention_in_days", Value::from(0));
                }
                if r.chance(40) {
                    refer(&mut a, 0, "kms_key_id", "arn");
                }
                a.preset("log_group_class", Value::from("STANDARD"));
                a.preset("skip_destroy", Value::from(false));
            }
            Kind::Lb => {
                set_name(&mut a, "name", name.chars().take(32).collect());
                let internal = r.chance(70);
                a.arg("internal", Value::from(internal));
                a.arg("load_balancer_type", Value::from("application"));
                if let Some((value, refs)) = self.reference(b, j, 0, "id", act) {
                    a.arg_ref("subnets", value.map(|v| json!([v])), refs);
                }
                if let Some((value, refs)) = self.reference(b, j, 1, "id", act) {
                    a.arg_ref("security_groups", value.map(|v| json!([v])), refs);
                }
                a.arg("drop_invalid_header_fields", Value::from(r.chance(60)));
                a.arg("enable_deletion_protection", Value::from(r.chance(50)));
                if r.chance(60) {
                    a.arg_blocks(
                        "access_logs",
                        vec![json!({"bucket": "acme-lb-logs", "enabled": true, "prefix": name})],
                    );
                }
                a.preset("idle_timeout", Value::from(60));
                a.computed("dns_name", || {
                    Value::from(format!("{name}-1234567890.{REGION}.elb.amazonaws.com"))
                });
                a.computed("zone_id", || Value::from("Z35SXDOTRQ7X7K"));
            }
            Kind::LbListener => {
                if !refer(&mut a, 0, "load_balancer_arn", "arn") {
                    a.arg("load_balancer_arn", Value::from(format!("arn:aws:elasticloadbalancing:{REGION}:{ACCOUNT}:loadbalancer/app/shared/50dc6c495c0c9188")));
                }
                let https = r.chance(60);
                a.arg("port", Value::from(if https { 443 } else { 80 }));
                a.arg(
                    "protocol",
                    Value::from(if https { "HTTPS" } else { "HTTP" }),
                );
                let tg = format!("arn:aws:elasticloadbalancing:{REGION}:{ACCOUNT}:targetgroup/{name}/73e2d6bc24d8a067");
                if https {
                    let policy = if r.chance(80) {
                        "ELBSecurityPolicy-TLS13-1-2-2021-06"
                    } else {
                        "ELBSecurityPolicy-2016-08"
                    };
                    a.arg("ssl_policy", Value::from(policy));
                    a.arg("certificate_arn", Value::from(format!("arn:aws:acm:{REGION}:{ACCOUNT}:certificate/5d1a4b2c-0f3e-4c8a-9b7d-2e6f1a3c5b7d")));
                    a.arg_blocks(
                        "default_action",
                        vec![json!({"type": "forward", "target_group_arn": tg})],
                    );
                } else if r.chance(70) {
                    a.arg_blocks(
                        "default_action",
                        vec![json!({"type": "redirect", "redirect": [{"port": "443", "protocol": "HTTPS", "status_code": "HTTP_301"}]})],
                    );
                } else {
                    a.arg_blocks(
                        "default_action",
                        vec![json!({"type": "forward", "target_group_arn": tg})],
                    );
                }
            }
            Kind::KmsKey => {
                a.arg("description", Value::from(format!("{name} encryption key")));
                a.arg("enable_key_rotation", Value::from(r.chance(80)));
                a.arg("deletion_window_in_days", Value::from(r.pick(&[7, 30])));
                a.preset("customer_master_key_spec", Value::from("SYMMETRIC_DEFAULT"));
                a.preset("key_usage", Value::from("ENCRYPT_DECRYPT"));
                a.preset("is_enabled", Value::from(true));
                a.computed("key_id", || Value::from(id.clone()));
                a.computed("policy", || {
                    Value::from(format!(r#"{{"Statement":[{{"Action":"kms:*","Effect":"Allow","Principal":{{"AWS":"arn:aws:iam::{ACCOUNT}:root"}},"Resource":"*"}}],"Version":"2012-10-17"}}"#))
                });
            }
        }
        // Every type has an id; most have an ARN.
        a.computed("id", || Value::from(id.clone()));
        if existing {
            if let Some(arn) = arn {
                a.after.insert("arn".into(), Value::from(arn));
            }
        } else if !matches!(b.kind, Kind::SgRule | Kind::S3Sse | Kind::S3Pab) {
            a.unknown.insert("arn".into(), Value::from(true));
        }
        if b.kind.tagged() {
            self.tags(&mut a, b, &mut r);
        }
        a
    }

    /// The `bucket` argument of an S3 companion: a reference to its bucket.
    fn companion_bucket(&self, a: &mut Attrs, b: &Block, j: u32, act: Act) {
        if let Some((value, refs)) = self.reference(b, j, 0, "id", act) {
            a.arg_ref("bucket", value, refs);
        }
    }

    /// `tags` (mostly Owner, CostCenter and Environment; some missing) and `tags_all`.
    fn tags(&self, a: &mut Attrs, b: &Block, r: &mut Rng) {
        let mut tags = Map::new();
        let roll = r.below(100);
        let owner = r.pick(&OWNERS);
        let cc = format!("cc-{}", 1000 + r.below(40));
        let constant = r.chance(40);
        if roll < 95 {
            tags.insert("Environment".into(), Value::from(self.env(b)));
        }
        if roll < 85 {
            tags.insert("Owner".into(), Value::from(owner));
        }
        if roll < 80 {
            tags.insert("CostCenter".into(), Value::from(cc));
        }
        let mut all = Map::new();
        all.insert("ManagedBy".into(), Value::from("terraform"));
        all.extend(tags.iter().map(|(k, v)| (k.clone(), v.clone())));
        if tags.is_empty() {
            a.after.insert("tags".into(), Value::Null);
        } else {
            if a.want_exprs {
                let expr = if constant {
                    json!({"constant_value": tags})
                } else {
                    json!({"references": ["local.tags"]})
                };
                a.exprs.insert("tags".into(), expr);
            }
            a.after.insert("tags".into(), Value::Object(tags));
            a.unknown.insert("tags".into(), json!({}));
            a.sensitive.insert("tags".into(), json!({}));
        }
        a.after.insert("tags_all".into(), Value::Object(all));
        a.unknown.insert("tags_all".into(), json!({}));
        a.sensitive.insert("tags_all".into(), json!({}));
    }
}

/// A security group rule block, as `ingress`/`egress` hold them.
fn rule(from: u16, to: u16, protocol: &str, cidr: &str, description: &str) -> Value {
    json!({
        "cidr_blocks": [cidr],
        "description": description,
        "from_port": from,
        "ipv6_cidr_blocks": [],
        "prefix_list_ids": [],
        "protocol": protocol,
        "security_groups": [],
        "self": false,
        "to_port": to,
    })
}

/// The earlier value of a replaced attribute.
fn mutate(v: &Value) -> Value {
    match v {
        Value::String(s) if s.starts_with("ami-") => Value::from("ami-0c55b159cbfafe1f0"),
        Value::String(s) if s.starts_with("us-east-1") => Value::from("us-east-1d"),
        Value::String(s) if s.starts_with("10.") => Value::from("172.31.0.0/16"),
        Value::String(s) if s == "SYMMETRIC_DEFAULT" => Value::from("RSA_2048"),
        Value::String(s) => Value::from(format!("{s}-old")),
        Value::Number(n) => Value::from(n.as_i64().unwrap_or(0) + 1),
        Value::Bool(b) => Value::from(!b),
        other => other.clone(),
    }
}

/// Configuration expressions for a nested block: nested blocks recurse, the rest are constants.
/// Attributes left unset (null, empty, `self = false`) have no expression.
fn block_expr(v: &Value) -> Value {
    let unset = |k: &str, v: &Value| match v {
        Value::Null => true,
        Value::Array(items) => items.is_empty(),
        Value::String(s) => s.is_empty(),
        Value::Bool(b) => k == "self" && !b,
        _ => false,
    };
    match v {
        Value::Object(m) => Value::Object(
            m.iter()
                .filter(|(k, v)| !unset(k, v))
                .map(|(k, v)| {
                    let e = match v {
                        Value::Array(items) if items.iter().all(Value::is_object) => {
                            Value::Array(items.iter().map(block_expr).collect())
                        }
                        _ => json!({ "constant_value": v }),
                    };
                    (k.clone(), e)
                })
                .collect(),
        ),
        other => json!({ "constant_value": other }),
    }
}

/// One resource instance's attribute bodies, and its block's configuration expressions.
#[derive(Default)]
struct Attrs {
    after: Map<String, Value>,
    unknown: Map<String, Value>,
    sensitive: Map<String, Value>,
    exprs: Map<String, Value>,
    existing: bool,
    want_exprs: bool,
}

impl Attrs {
    /// An argument set to a constant in the configuration.
    fn arg(&mut self, key: &str, value: Value) {
        if self.want_exprs {
            self.exprs
                .insert(key.into(), json!({ "constant_value": value }));
        }
        self.after.insert(key.into(), value);
    }

    /// An argument set from references; `None` when its value is unknown until apply.
    fn arg_ref(&mut self, key: &str, value: Option<Value>, refs: Vec<String>) {
        if self.want_exprs {
            self.exprs.insert(key.into(), json!({ "references": refs }));
        }
        match value {
            Some(v) => {
                self.after.insert(key.into(), v);
            }
            None => {
                self.unknown.insert(key.into(), Value::from(true));
            }
        }
    }

    /// Nested blocks written in the configuration.
    fn arg_blocks(&mut self, key: &str, blocks: Vec<Value>) {
        if self.want_exprs {
            self.exprs.insert(
                key.into(),
                Value::Array(blocks.iter().map(block_expr).collect()),
            );
        }
        self.unknown.insert(
            key.into(),
            Value::Array(blocks.iter().map(|_| json!({})).collect()),
        );
        self.after.insert(key.into(), Value::Array(blocks));
    }

    /// An attribute the provider computes: unknown for a new object.
    fn computed(&mut self, key: &str, value: impl FnOnce() -> Value) {
        if self.existing {
            self.after.insert(key.into(), value());
        } else {
            self.unknown.insert(key.into(), Value::from(true));
        }
    }

    /// An attribute left unset whose default the provider knows at plan time.
    fn preset(&mut self, key: &str, value: Value) {
        self.after.insert(key.into(), value);
    }
}

fn json_to<W: Write, T: serde::Serialize + ?Sized>(w: &mut W, v: &T) -> io::Result<()> {
    serde_json::to_writer(w, v).map_err(io::Error::from)
}

/// Writes a change that has both sides, from its `before` value on: before, after,
/// after_unknown, before_sensitive, after_sensitive.
fn write_sides<W: Write>(w: &mut W, parts: [&Map<String, Value>; 5]) -> io::Result<()> {
    let [before, after, unknown, before_sensitive, after_sensitive] = parts;
    json_to(w, before)?;
    w.write_all(br#","after":"#)?;
    json_to(w, after)?;
    w.write_all(br#","after_unknown":"#)?;
    json_to(w, unknown)?;
    w.write_all(br#","before_sensitive":"#)?;
    json_to(w, before_sensitive)?;
    w.write_all(br#","after_sensitive":"#)?;
    json_to(w, after_sensitive)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plan(n: usize, seed: u64) -> Vec<u8> {
        let mut out = Vec::new();
        write_plan(n, seed, &mut out).unwrap();
        out
    }

    #[test]
    fn writes_valid_json_with_n_changes() {
        for n in [0, 1, 7, 19, 20, 333] {
            let out = plan(n, 3);
            let v: Value = serde_json::from_slice(&out).unwrap();
            assert_eq!(
                v["resource_changes"].as_array().unwrap().len(),
                n,
                "n = {n}"
            );
            assert_eq!(v["format_version"], "1.2");
        }
    }

    #[test]
    fn is_deterministic_per_seed() {
        assert_eq!(plan(200, 9), plan(200, 9));
        assert_ne!(plan(200, 9), plan(200, 10));
    }

    #[test]
    fn parses_as_a_plan() {
        let out = String::from_utf8(plan(600, 1)).unwrap();
        let parsed: planguard::plan::Plan = serde_json::from_str(&out).unwrap();
        assert_eq!(parsed.resource_changes.len(), 600);
        assert!(parsed
            .resource_changes
            .iter()
            .any(|rc| rc.module_address.is_some()));
    }
}
