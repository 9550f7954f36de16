package dev.asmnetedge.core;

import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A small strict JSON parser (RFC 8259), enough for the model sidecar and the test vectors.
 *
 * <p>Android ships org.json but plain Java does not, and the core must run in both, so it carries
 * its own. Strict on purpose: duplicate keys, trailing commas, NaN/Infinity, leading zeros, control
 * characters in strings and trailing text are errors, because a sidecar that Python's json module
 * would not have written is a sign of a hand-edited or truncated file.
 *
 * <p>Values map to: object {@code Map<String, Object>} (insertion order), array {@code List<Object>},
 * string {@code String}, number {@code Long} (no fraction or exponent, fits in a long) or
 * {@code Double} (parsed with {@link Double#parseDouble}, which rounds exactly like Python's float()),
 * {@code Boolean}, and {@link #NULL} for null.
 *
 * <pre>{@code
 * Map<String, Object> obj = Json.parseObject("{\"a\": [1, 2.5]}");
 * }</pre>
 */
public final class Json {
    /** The JSON null (a marker, so that a missing key and an explicit null differ). */
    public static final Object NULL = new Object() {
        @Override
        public String toString() {
            return "null";
        }
    };

    private static final int MAX_DEPTH = 64;

    private final String text;
    private int pos;

    private Json(String text) {
        this.text = text;
    }

    /** Parse one JSON value; the whole text must be consumed (surrounding whitespace allowed). */
    public static Object parse(String text) {
        Json parser = new Json(text);
        parser.skipWhitespace();
        Object value = parser.value(0);
        parser.skipWhitespace();
        if (parser.pos != text.length()) {
            throw parser.error("unexpected text after the JSON value");
        }
        return value;
    }

    /** Parse text whose top-level value must be an object. */
    @SuppressWarnings("unchecked")
    public static Map<String, Object> parseObject(String text) {
        Object value = parse(text);
        if (!(value instanceof Map)) {
            throw new JsonException("expected a JSON object at the top level");
        }
        return (Map<String, Object>) value;
    }

    private Object value(int depth) {
        if (depth > MAX_DEPTH) {
            throw error("nesting deeper than " + MAX_DEPTH);
        }
        if (pos >= text.length()) {
            throw error("unexpected end of text");
        }
        char next = text.charAt(pos);
        switch (next) {
            case '{':
                return object(depth);
            case '[':
                return array(depth);
            case '"':
                return string();
            case 't':
                return literal("true", Boolean.TRUE);
            case 'f':
                return literal("false", Boolean.FALSE);
            case 'n':
                return literal("null", NULL);
            default:
                if (next == '-' || (next >= '0' && next <= '9')) {
                    return number();
                }
                throw error("unexpected character '" + next + "'");
        }
    }

    private Map<String, Object> object(int depth) {
        Map<String, Object> result = new LinkedHashMap<>();
        pos++; // '{'
        skipWhitespace();
        if (peek('}')) {
            pos++;
            return result;
        }
        while (true) {
            skipWhitespace();
            if (!peek('"')) {
                throw error("expected a string key");
            }
            String key = string();
            if (result.containsKey(key)) {
                throw error("duplicate key \"" + key + "\"");
            }
            skipWhitespace();
            expect(':');
            skipWhitespace();
            result.put(key, value(depth + 1));
            skipWhitespace();
            if (peek(',')) {
                pos++;
                continue;
            }
            expect('}');
            return result;
        }
    }

    private List<Object> array(int depth) {
        List<Object> result = new ArrayList<>();
        pos++; // '['
        skipWhitespace();
        if (peek(']')) {
            pos++;
            return Collections.unmodifiableList(result);
        }
        while (true) {
            skipWhitespace();
            result.add(value(depth + 1));
            skipWhitespace();
            if (peek(',')) {
                pos++;
                continue;
            }
            expect(']');
            return Collections.unmodifiableList(result);
        }
    }

    private String string() {
        pos++; // opening quote
        StringBuilder out = new StringBuilder();
        while (true) {
            if (pos >= text.length()) {
                throw error("unterminated string");
            }
            char next = text.charAt(pos++);
            if (next == '"') {
                return out.toString();
            }
            if (next < 0x20) {
                throw error("control character in a string");
            }
            if (next != '\\') {
                out.append(next);
                continue;
            }
            if (pos >= text.length()) {
                throw error("unterminated escape");
            }
            char escape = text.charAt(pos++);
            switch (escape) {
                case '"': out.append('"'); break;
                case '\\': out.append('\\'); break;
                case '/': out.append('/'); break;
                case 'b': out.append('\b'); break;
                case 'f': out.append('\f'); break;
                case 'n': out.append('\n'); break;
                case 'r': out.append('\r'); break;
                case 't': out.append('\t'); break;
                case 'u': out.append(unicodeEscape()); break;
                default: throw error("invalid escape \\" + escape);
            }
        }
    }

    private char unicodeEscape() {
        if (pos + 4 > text.length()) {
            throw error("truncated \\u escape");
        }
        int code = 0;
        for (int index = 0; index < 4; index++) {
            int digit = Character.digit(text.charAt(pos++), 16);
            if (digit < 0) {
                throw error("invalid hex digit in \\u escape");
            }
            code = code * 16 + digit;
        }
        return (char) code; // surrogate pairs arrive as two escapes and stay two UTF-16 units
    }

    private Object number() {
        int start = pos;
        if (peek('-')) {
            pos++;
        }
        if (peek('0')) {
            pos++;
            if (pos < text.length() && Character.isDigit(text.charAt(pos))) {
                throw error("leading zero in a number");
            }
        } else if (!digits()) {
            throw error("expected digits");
        }
        boolean integral = true;
        if (peek('.')) {
            pos++;
            integral = false;
            if (!digits()) {
                throw error("expected digits after the decimal point");
            }
        }
        if (peek('e') || peek('E')) {
            pos++;
            integral = false;
            if (peek('+') || peek('-')) {
                pos++;
            }
            if (!digits()) {
                throw error("expected digits in the exponent");
            }
        }
        String literal = text.substring(start, pos);
        if (integral) {
            try {
                return Long.parseLong(literal);
            } catch (NumberFormatException tooLong) {
                return Double.parseDouble(literal);
            }
        }
        return Double.parseDouble(literal);
    }

    private boolean digits() {
        int start = pos;
        while (pos < text.length() && text.charAt(pos) >= '0' && text.charAt(pos) <= '9') {
            pos++;
        }
        return pos > start;
    }

    private Object literal(String word, Object value) {
        if (!text.startsWith(word, pos)) {
            throw error("invalid literal");
        }
        pos += word.length();
        return value;
    }

    private boolean peek(char expected) {
        return pos < text.length() && text.charAt(pos) == expected;
    }

    private void expect(char expected) {
        if (!peek(expected)) {
            throw error("expected '" + expected + "'");
        }
        pos++;
    }

    private void skipWhitespace() {
        while (pos < text.length()) {
            char next = text.charAt(pos);
            if (next != ' ' && next != '\t' && next != '\n' && next != '\r') {
                return;
            }
            pos++;
        }
    }

    private JsonException error(String message) {
        return new JsonException("invalid JSON at character " + pos + ": " + message);
    }

    /** A JSON text that does not parse; the message gives the character position. */
    public static final class JsonException extends IllegalArgumentException {
        private static final long serialVersionUID = 1L;

        public JsonException(String message) {
            super(message);
        }
    }
}
