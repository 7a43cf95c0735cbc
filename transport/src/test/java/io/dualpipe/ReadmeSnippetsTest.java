package io.dualpipe;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import javax.tools.JavaCompiler;
import javax.tools.ToolProvider;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Every ```java block of the README compiles as shown, imports included, against the library. */
class ReadmeSnippetsTest {
    private static final Pattern BLOCK = Pattern.compile("```java\n(.*?)```", Pattern.DOTALL);
    private static final Pattern CLASS = Pattern.compile("^public (?:final )?class (\\w+)", Pattern.MULTILINE);

    @Test
    void everyJavaBlockCompiles(@TempDir Path dir) throws Exception {
        String readme = Files.readString(Path.of("..", "README.md"));
        List<String> blocks = new ArrayList<>();
        Matcher m = BLOCK.matcher(readme);
        while (m.find()) {
            blocks.add(m.group(1));
        }
        assertFalse(blocks.isEmpty(), "no ```java block in README.md");
        JavaCompiler javac = ToolProvider.getSystemJavaCompiler();
        for (int i = 0; i < blocks.size(); i++) {
            String block = blocks.get(i);
            Matcher c = CLASS.matcher(block);
            assertTrue(c.find(), "README java block " + (i + 1) + " declares no public class:\n" + block);
            Path src = dir.resolve("b" + i).resolve(c.group(1) + ".java");
            Files.createDirectories(src.getParent());
            Files.writeString(src, block);
            ByteArrayOutputStream err = new ByteArrayOutputStream();
            int rc = javac.run(null, null, err, "-Xlint:all", "-Werror", "-proc:none", "-d", dir.resolve("out" + i).toString(),
                    "-cp", System.getProperty("java.class.path"), src.toString());
            assertEquals(0, rc, "README java block " + (i + 1) + " (" + c.group(1) + ") does not compile:\n"
                    + err.toString(StandardCharsets.UTF_8) + "\n" + block);
        }
    }
}
