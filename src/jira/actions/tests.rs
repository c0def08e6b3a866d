use super::*;

#[test]
fn adf_paragraphs_and_breaks() {
    let doc = plain_text_to_adf("Hello\nworld\n\nSecond");
    assert_eq!(
        doc,
        json!({"type":"doc","version":1,"content":[
            {"type":"paragraph","content":[
                {"type":"text","text":"Hello"},{"type":"hardBreak"},{"type":"text","text":"world"}]},
            {"type":"paragraph","content":[{"type":"text","text":"Second"}]}]})
    );
}

#[test]
fn adf_empty_and_crlf() {
    assert_eq!(
        plain_text_to_adf("  "),
        json!({"type":"doc","version":1,"content":[]})
    );
    let doc = plain_text_to_adf("a\r\n\r\nb");
    assert_eq!(doc["content"].as_array().unwrap().len(), 2);
}
