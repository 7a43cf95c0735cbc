package io.dualpipe.process;

import io.dualpipe.core.EventLoop;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** The README's "taste" snippet, kept honest. */
class ReadmeExampleTest {
    @Test
    @Timeout(20)
    void bcConversationFromTheReadme() throws Exception {
        try (EventLoop loop = EventLoop.create("app")) {
            ChildProcess bc = ChildProcess.builder("bc", "-q").loop(loop).start();
            String answer = bc.request("6 * 7")
                    .thenCompose(r -> bc.request(r + " + 1"))
                    .get(5, TimeUnit.SECONDS);
            bc.stdin().shutdownOutput();
            assertEquals("43", answer);
            assertEquals("exit 0", bc.onExit().get(5, TimeUnit.SECONDS).toString());
        }
    }
}
