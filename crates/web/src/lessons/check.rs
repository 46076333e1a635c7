//! A lesson's claims, as conditions on the page's numbers: `right.bytes < left.bytes * 1.02
//! && left.class != right.class`. Written by hand because the language is tiny (numbers,
//! quoted strings, named readings, `+ - * /`, `abs min max`, comparisons, `&& || !`) and its
//! syntax is JavaScript's, so the browser test can evaluate the same text independently.

use std::fmt;

/// Named things in the order written: a small map kept as a list (a few dozen entries; a
/// `BTreeMap` per value type cost the UI module several KB of code).
#[derive(Debug, Clone, PartialEq)]
pub struct Named<T>(pub Vec<(String, T)>);

impl<T> Default for Named<T> {
    fn default() -> Self {
        Named(Vec::new())
    }
}

impl<T> Named<T> {
    pub fn get(&self, name: &str) -> Option<&T> {
        self.0.iter().find(|(n, _)| n == name).map(|(_, v)| v)
    }

    pub fn contains_key(&self, name: &str) -> bool {
        self.get(name).is_some()
    }

    /// Adds or replaces `name`'s value.
    pub fn insert(&mut self, name: String, value: T) {
        match self.0.iter_mut().find(|(n, _)| *n == name) {
            Some(slot) => slot.1 = value,
            None => self.0.push((name, value)),
        }
    }

    pub fn values(&self) -> impl Iterator<Item = &T> {
        self.0.iter().map(|(_, v)| v)
    }
}

impl<'de, T: serde::Deserialize<'de>> serde::Deserialize<'de> for Named<T> {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Visit<T>(std::marker::PhantomData<T>);
        impl<'de, T: serde::Deserialize<'de>> serde::de::Visitor<'de> for Visit<T> {
            type Value = Named<T>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an object")
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<Named<T>, A::Error> {
                let mut out = Named::default();
                while let Some((k, v)) = map.next_entry::<String, T>()? {
                    if out.contains_key(&k) {
                        return Err(serde::de::Error::custom(format!("'{k}' is named twice")));
                    }
                    out.0.push((k, v));
                }
                Ok(out)
            }
        }
        d.deserialize_map(Visit(std::marker::PhantomData))
    }
}

/// A value read from the page (or written in a condition).
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Num(f64),
    Str(String),
    Bool(bool),
}

impl fmt::Display for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            // Four decimals are enough to read a claim by (the raw value is in `data-values`).
            Value::Num(x) => write!(f, "{}", (x * 1e4).round() / 1e4),
            Value::Str(s) => write!(f, "'{s}'"),
            Value::Bool(b) => write!(f, "{b}"),
        }
    }
}

impl Value {
    /// An attribute's text as the page writes its raw values: JSON (`12.5`, `true`, `"Coat"`)
    /// where it is a JSON number, boolean or string, the text itself otherwise (`Coat`); `null`
    /// is no value (yet). Read by hand, not through `serde_json::Value`: that machinery costs
    /// the UI module ~25 KB gzipped.
    pub fn from_attribute(text: &str) -> Option<Value> {
        let t = text.trim();
        match t {
            "null" => return None,
            "true" => return Some(Value::Bool(true)),
            "false" => return Some(Value::Bool(false)),
            _ => {}
        }
        let json_number = t.starts_with(|c: char| c.is_ascii_digit() || c == '-') && t.chars().all(|c| c.is_ascii_digit() || "+-.eE".contains(c));
        if let Some(x) = json_number.then(|| t.parse::<f64>().ok()).flatten() {
            return Some(Value::Num(x));
        }
        if t.len() >= 2 && t.starts_with('"') && t.ends_with('"') {
            if let Ok(s) = serde_json::from_str::<String>(t) {
                return Some(Value::Str(s));
            }
        }
        Some(Value::Str(text.to_string()))
    }

    /// The value as JSON text (for `data-values`, which the browser test compares with its own
    /// reading of the page).
    pub fn to_json(&self) -> String {
        match self {
            Value::Num(x) => serde_json::to_string(x).unwrap_or_else(|_| "null".into()),
            Value::Str(s) => serde_json::to_string(s).unwrap_or_else(|_| "null".into()),
            Value::Bool(b) => b.to_string(),
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
enum Expr {
    Lit(Value),
    Name(String),
    Neg(Box<Expr>),
    Not(Box<Expr>),
    Call(Func, Vec<Expr>),
    Bin(Op, Box<Expr>, Box<Expr>),
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Func {
    Abs,
    Min,
    Max,
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Op {
    Add,
    Sub,
    Mul,
    Div,
    Lt,
    Le,
    Gt,
    Ge,
    Eq,
    Ne,
    And,
    Or,
}

/// A parsed condition, with the text it was written as. In a lessons file it is that text, parsed
/// once as the file is read.
#[derive(Debug, Clone, PartialEq)]
pub struct Condition {
    text: String,
    expr: Expr,
}

impl<'de> serde::Deserialize<'de> for Condition {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        Condition::parse(&text).map_err(|e| serde::de::Error::custom(format!("'{text}': {e}")))
    }
}

#[derive(Debug, Clone, PartialEq)]
enum Token {
    Num(f64),
    Str(String),
    Name(String),
    Sym(&'static str),
}

/// The longest text a condition may have (they are written by people, in the lessons file).
const MAX_CONDITION_CHARS: usize = 1000;
const MAX_DEPTH: usize = 32;

fn tokens(text: &str) -> Result<Vec<Token>, String> {
    if text.chars().count() > MAX_CONDITION_CHARS {
        return Err(format!("longer than {MAX_CONDITION_CHARS} characters"));
    }
    let chars: Vec<char> = text.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    const SYMS: [&str; 17] = ["&&", "||", "<=", ">=", "==", "!=", "<", ">", "+", "-", "*", "/", "(", ")", ",", "!", "."];
    while i < chars.len() {
        let c = chars[i];
        if c.is_whitespace() {
            i += 1;
        } else if c.is_ascii_digit() || (c == '.' && chars.get(i + 1).is_some_and(char::is_ascii_digit)) {
            let start = i;
            while i < chars.len() && (chars[i].is_ascii_digit() || chars[i] == '.' || chars[i] == 'e' || ((chars[i] == '-' || chars[i] == '+') && chars[i - 1] == 'e')) {
                i += 1;
            }
            let s: String = chars[start..i].iter().collect();
            out.push(Token::Num(s.parse().map_err(|_| format!("'{s}' is not a number"))?));
        } else if c == '\'' {
            let start = i + 1;
            i = start;
            while i < chars.len() && chars[i] != '\'' {
                i += 1;
            }
            if i == chars.len() {
                return Err("a string is not closed (')".into());
            }
            out.push(Token::Str(chars[start..i].iter().collect()));
            i += 1;
        } else if c.is_ascii_alphabetic() || c == '_' {
            // A name: letters, digits, `_`, and dots between parts (`left.psnr`, `q4_0.accuracy`).
            let start = i;
            while i < chars.len() && (chars[i].is_ascii_alphanumeric() || chars[i] == '_' || (chars[i] == '.' && chars.get(i + 1).is_some_and(|n| n.is_ascii_alphanumeric() || *n == '_'))) {
                i += 1;
            }
            out.push(Token::Name(chars[start..i].iter().collect()));
        } else {
            let rest: String = chars[i..chars.len().min(i + 2)].iter().collect();
            let Some(sym) = SYMS.iter().find(|s| rest.starts_with(**s)) else {
                return Err(format!("unexpected '{c}'"));
            };
            if *sym == "." {
                return Err("unexpected '.'".into());
            }
            out.push(Token::Sym(sym));
            i += sym.chars().count();
        }
    }
    Ok(out)
}

struct Parser {
    tokens: Vec<Token>,
    at: usize,
    depth: usize,
}

impl Parser {
    fn peek_sym(&self) -> Option<&'static str> {
        match self.tokens.get(self.at) {
            Some(Token::Sym(s)) => Some(s),
            _ => None,
        }
    }

    fn eat(&mut self, sym: &str) -> bool {
        if self.peek_sym() == Some(sym) {
            self.at += 1;
            true
        } else {
            false
        }
    }

    fn binary(&mut self, level: usize) -> Result<Expr, String> {
        const LEVELS: [&[(&str, Op)]; 5] = [
            &[("||", Op::Or)],
            &[("&&", Op::And)],
            &[("<=", Op::Le), (">=", Op::Ge), ("<", Op::Lt), (">", Op::Gt), ("==", Op::Eq), ("!=", Op::Ne)],
            &[("+", Op::Add), ("-", Op::Sub)],
            &[("*", Op::Mul), ("/", Op::Div)],
        ];
        if level == LEVELS.len() {
            return self.unary();
        }
        let mut left = self.binary(level + 1)?;
        loop {
            let Some((_, op)) = self.peek_sym().and_then(|s| LEVELS[level].iter().find(|(t, _)| *t == s)) else { return Ok(left) };
            let op = *op;
            self.at += 1;
            let right = self.binary(level + 1)?;
            // Comparisons do not chain (`a < b < c` means something else in JavaScript).
            if level == 2 && matches!(self.peek_sym(), Some("<" | "<=" | ">" | ">=" | "==" | "!=")) {
                return Err("comparisons do not chain: write a < b && b < c".into());
            }
            left = Expr::Bin(op, Box::new(left), Box::new(right));
        }
    }

    fn unary(&mut self) -> Result<Expr, String> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err("nested too deeply".into());
        }
        let e = if self.eat("-") {
            Expr::Neg(Box::new(self.unary()?))
        } else if self.eat("!") {
            Expr::Not(Box::new(self.unary()?))
        } else {
            self.atom()?
        };
        self.depth -= 1;
        Ok(e)
    }

    fn atom(&mut self) -> Result<Expr, String> {
        let t = self.tokens.get(self.at).cloned().ok_or("the condition ends too soon")?;
        self.at += 1;
        match t {
            Token::Num(x) => Ok(Expr::Lit(Value::Num(x))),
            Token::Str(s) => Ok(Expr::Lit(Value::Str(s))),
            Token::Name(n) if n == "true" || n == "false" => Ok(Expr::Lit(Value::Bool(n == "true"))),
            Token::Name(n) if self.peek_sym() == Some("(") => {
                let f = match n.as_str() {
                    "abs" => Func::Abs,
                    "min" => Func::Min,
                    "max" => Func::Max,
                    _ => return Err(format!("there is no function '{n}' (abs, min, max)")),
                };
                self.at += 1;
                let mut args = vec![self.binary(0)?];
                while self.eat(",") {
                    args.push(self.binary(0)?);
                }
                if !self.eat(")") {
                    return Err(format!("{n}( is not closed"));
                }
                let arity_ok = if f == Func::Abs { args.len() == 1 } else { args.len() >= 2 };
                if !arity_ok {
                    return Err(format!("{n} takes {}", if f == Func::Abs { "one value" } else { "two or more values" }));
                }
                Ok(Expr::Call(f, args))
            }
            Token::Name(n) => Ok(Expr::Name(n)),
            Token::Sym("(") => {
                let e = self.binary(0)?;
                if !self.eat(")") {
                    return Err("a '(' is not closed".into());
                }
                Ok(e)
            }
            Token::Sym(s) => Err(format!("unexpected '{s}'")),
        }
    }
}

impl Condition {
    pub fn parse(text: &str) -> Result<Condition, String> {
        let mut p = Parser { tokens: tokens(text)?, at: 0, depth: 0 };
        if p.tokens.is_empty() {
            return Err("the condition is empty".into());
        }
        let expr = p.binary(0)?;
        if p.at != p.tokens.len() {
            return Err("something follows the condition's end".into());
        }
        Ok(Condition { text: text.to_string(), expr })
    }

    /// The condition as it was written.
    pub fn text(&self) -> &str {
        &self.text
    }

    /// The readings the condition uses, in order of first use.
    pub fn names(&self) -> Vec<String> {
        fn walk(e: &Expr, out: &mut Vec<String>) {
            match e {
                Expr::Name(n) if !out.contains(n) => out.push(n.clone()),
                Expr::Name(_) | Expr::Lit(_) => {}
                Expr::Neg(a) | Expr::Not(a) => walk(a, out),
                Expr::Call(_, args) => args.iter().for_each(|a| walk(a, out)),
                Expr::Bin(_, a, b) => {
                    walk(a, out);
                    walk(b, out);
                }
            }
        }
        let mut out = Vec::new();
        walk(&self.expr, &mut out);
        out
    }

    /// Whether the condition holds with these readings; `Err` when a reading is missing or a
    /// value has the wrong kind (a number compared with a text).
    pub fn holds(&self, values: &Named<Value>) -> Result<bool, String> {
        match eval(&self.expr, values)? {
            Value::Bool(b) => Ok(b),
            other => Err(format!("the condition gives {other}, not true or false")),
        }
    }
}

fn num(v: Value) -> Result<f64, String> {
    match v {
        Value::Num(x) => Ok(x),
        other => Err(format!("{other} is not a number")),
    }
}

fn boolean(v: Value) -> Result<bool, String> {
    match v {
        Value::Bool(b) => Ok(b),
        other => Err(format!("{other} is not true or false")),
    }
}

fn eval(e: &Expr, values: &Named<Value>) -> Result<Value, String> {
    Ok(match e {
        Expr::Lit(v) => v.clone(),
        Expr::Name(n) => values.get(n).cloned().ok_or_else(|| format!("no reading '{n}'"))?,
        Expr::Neg(a) => Value::Num(-num(eval(a, values)?)?),
        Expr::Not(a) => Value::Bool(!boolean(eval(a, values)?)?),
        Expr::Call(f, args) => {
            let xs = args.iter().map(|a| eval(a, values).and_then(num)).collect::<Result<Vec<_>, _>>()?;
            Value::Num(match f {
                Func::Abs => xs[0].abs(),
                Func::Min => xs.iter().copied().fold(f64::INFINITY, f64::min),
                Func::Max => xs.iter().copied().fold(f64::NEG_INFINITY, f64::max),
            })
        }
        Expr::Bin(Op::And, a, b) => Value::Bool(boolean(eval(a, values)?)? && boolean(eval(b, values)?)?),
        Expr::Bin(Op::Or, a, b) => Value::Bool(boolean(eval(a, values)?)? || boolean(eval(b, values)?)?),
        Expr::Bin(op @ (Op::Eq | Op::Ne), a, b) => {
            let (a, b) = (eval(a, values)?, eval(b, values)?);
            let same = match (&a, &b) {
                (Value::Num(x), Value::Num(y)) => x == y,
                (Value::Str(x), Value::Str(y)) => x == y,
                (Value::Bool(x), Value::Bool(y)) => x == y,
                _ => return Err(format!("{a} and {b} are not of one kind")),
            };
            Value::Bool(same == (*op == Op::Eq))
        }
        Expr::Bin(op, a, b) => {
            let (x, y) = (num(eval(a, values)?)?, num(eval(b, values)?)?);
            match op {
                Op::Add => Value::Num(x + y),
                Op::Sub => Value::Num(x - y),
                Op::Mul => Value::Num(x * y),
                Op::Div => Value::Num(x / y),
                Op::Lt => Value::Bool(x < y),
                Op::Le => Value::Bool(x <= y),
                Op::Gt => Value::Bool(x > y),
                Op::Ge => Value::Bool(x >= y),
                Op::Eq | Op::Ne | Op::And | Op::Or => unreachable!("handled above"),
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vals(pairs: &[(&str, Value)]) -> Named<Value> {
        Named(pairs.iter().map(|(k, v)| (k.to_string(), v.clone())).collect())
    }

    #[test]
    fn conditions_evaluate_as_javascript_would() {
        let v = vals(&[("left.bytes", Value::Num(392.0)), ("right.bytes", Value::Num(387.0)), ("left.class", Value::Str("Coat".into())), ("q4_0.accuracy", Value::Num(0.918)), ("left.changed", Value::Bool(true))]);
        let cases = [
            ("right.bytes < left.bytes", true),
            ("abs(left.bytes - right.bytes) <= 0.02 * left.bytes", true),
            ("left.class == 'Coat' && !(left.class != 'Coat')", true),
            ("left.changed || right.bytes > 1e6", true),
            ("q4_0.accuracy >= 0.92 || left.bytes - -8 == 400", true),
            ("min(left.bytes, right.bytes, 500) == 387 && max(1, 2) == 2", true),
            ("2 + 3 * 4 == 14 && (2 + 3) * 4 == 20 && 8 / 2 / 2 == 2 && 1 - 2 - 3 == -4", true),
            ("left.bytes < right.bytes", false),
            (".5 == 0.5 && 1.5e-3 < 0.01", true),
        ];
        for (text, want) in cases {
            let c = Condition::parse(text).unwrap_or_else(|e| panic!("{text}: {e}"));
            assert_eq!(c.holds(&v), Ok(want), "{text}");
        }
        assert_eq!(Condition::parse("right.bytes < left.bytes * 1.02 && left.class != 'x'").unwrap().names(), ["right.bytes", "left.bytes", "left.class"]);
    }

    #[test]
    fn bad_conditions_and_missing_readings_are_said() {
        for (text, why) in [
            ("", "empty"),
            ("a <", "ends too soon"),
            ("a < b < c", "do not chain"),
            ("sqrt(a)", "no function"),
            ("abs(a, b)", "one value"),
            ("'open", "not closed"),
            ("a # b", "unexpected '#'"),
            ("(a", "not closed"),
            ("a b", "follows"),
            ("a..b", "unexpected"),
        ] {
            let e = Condition::parse(text).expect_err(text);
            assert!(e.contains(why), "{text}: {e}");
        }
        assert!(Condition::parse(&"(".repeat(100)).unwrap_err().contains("deeply"));
        let v = vals(&[("a", Value::Num(1.0)), ("s", Value::Str("x".into()))]);
        assert!(Condition::parse("b > 1").unwrap().holds(&v).unwrap_err().contains("no reading 'b'"));
        assert!(Condition::parse("a == s").unwrap().holds(&v).unwrap_err().contains("not of one kind"));
        assert!(Condition::parse("a + 1").unwrap().holds(&v).unwrap_err().contains("not true or false"));
        assert!(Condition::parse("s > 1").unwrap().holds(&v).unwrap_err().contains("not a number"));
    }

    #[test]
    fn attributes_read_as_the_page_writes_them() {
        assert_eq!(Value::from_attribute("12.5"), Some(Value::Num(12.5)));
        assert_eq!(Value::from_attribute("true"), Some(Value::Bool(true)));
        assert_eq!(Value::from_attribute("null"), None);
        assert_eq!(Value::from_attribute("Ankle boot"), Some(Value::Str("Ankle boot".into())));
        assert_eq!(Value::from_attribute("q8_0"), Some(Value::Str("q8_0".into())));
        assert_eq!(Value::from_attribute("\"Pullover\""), Some(Value::Str("Pullover".into())));
        assert_eq!(Value::from_attribute("-1.5e-3"), Some(Value::Num(-1.5e-3)));
        assert_eq!(Value::from_attribute("4:2:0"), Some(Value::Str("4:2:0".into())));
        assert_eq!(Value::from_attribute("inf"), Some(Value::Str("inf".into())));
        assert_eq!(Value::Str("a\"b".into()).to_json(), "\"a\\\"b\"");
        assert_eq!(Value::Num(0.5).to_json(), "0.5");
    }
}
