package dev.asmnetedge.core;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertSame;
import static org.junit.Assert.assertTrue;
import static org.junit.Assert.fail;

import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.junit.Test;

public class JsonTest {
    @Test
    public void parsesWhatPythonJsonDumpsWrites() {
        Map<String, Object> data = Json.parseObject(
                "{\n \"a\": 1,\n \"b\": 0.00392156862745098,\n \"c\": [\"yaw\", \"pitch\"],\n"
                        + " \"d\": {\"e\": -128}, \"f\": true, \"g\": null, \"h\": \"\\u00e9\\n\", \"i\": 1e-05}");
        assertEquals(1L, data.get("a"));
        assertEquals(1.0 / 255.0, (Double) data.get("b"), 0.0); // repr round-trips exactly
        assertEquals(Arrays.asList("yaw", "pitch"), data.get("c"));
        assertEquals(-128L, ((Map<?, ?>) data.get("d")).get("e"));
        assertEquals(Boolean.TRUE, data.get("f"));
        assertSame(Json.NULL, data.get("g"));
        assertEquals("\u00e9\n", data.get("h"));
        assertEquals(1e-5, (Double) data.get("i"), 0.0);
        assertEquals(Arrays.asList("a", "b", "c", "d", "f", "g", "h", "i"), List.copyOf(data.keySet()));
    }

    @Test
    public void rejectsWhatPythonWouldNotWrite() {
        String[][] cases = {
            {"{\"a\": 1,}", "expected a string key"},
            {"[1, 2,]", "unexpected character ']'"},
            {"{\"a\": 1, \"a\": 2}", "duplicate key \"a\""},
            {"{\"a\": NaN}", "unexpected character 'N'"},
            {"{\"a\": 01}", "leading zero"},
            {"{\"a\": 1} x", "unexpected text after the JSON value"},
            {"{\"a\": \"tab\there\"}", "control character"},
            {"{\"a\": \"\\x\"}", "invalid escape"},
            {"{\"a\": 1.}", "expected digits after the decimal point"},
            {"{\"a\": tru}", "invalid literal"},
            {"{\"a\": [1, 2}", "expected ']'"},
            {"", "unexpected end of text"},
        };
        for (String[] item : cases) {
            try {
                Json.parse(item[0]);
                fail("accepted " + item[0]);
            } catch (Json.JsonException err) {
                assertTrue(item[0] + " -> " + err.getMessage(), err.getMessage().contains(item[1]));
            }
        }
    }

    @Test
    public void rejectsANonObjectWhereAnObjectIsExpected() {
        try {
            Json.parseObject("[1]");
            fail("accepted an array");
        } catch (Json.JsonException err) {
            assertEquals("expected a JSON object at the top level", err.getMessage());
        }
    }

    @Test
    public void bigIntegersBecomeDoubles() {
        assertEquals(1e20, (Double) Json.parse("100000000000000000000"), 0.0);
        assertEquals(Long.MAX_VALUE, Json.parse("9223372036854775807"));
    }
}
