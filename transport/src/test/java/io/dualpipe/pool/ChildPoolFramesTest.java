package io.dualpipe.pool;

import io.dualpipe.core.EventLoop;
import io.dualpipe.core.LoopFuture;
import io.dualpipe.core.codec.CodecRegistry;
import io.dualpipe.core.codec.Codecs;
import io.dualpipe.core.message.RemoteException;
import io.dualpipe.process.FrameEchoMain;
import io.dualpipe.process.JavaChild;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.util.ArrayList;
import java.util.List;

import static io.dualpipe.pool.PoolTestSupport.failsWith;
import static io.dualpipe.pool.PoolTestSupport.get;
import static org.junit.jupiter.api.Assertions.assertEquals;

/** A pool speaking frames (MessageChannel, replies matched by id) with Java children. */
class ChildPoolFramesTest {

    @Test
    @Timeout(90)
    void framesWithSeveralRequestsPerChildAndARemoteErrorThatCostsOnlyItsRequest() throws Exception {
        try (EventLoop loop = EventLoop.create("pool")) {
            CodecRegistry codecs = CodecRegistry.builder().register(Codecs.utf8()).build();
            ChildPool<String, String> pool = ChildPool.builder(JavaChild.builder(FrameEchoMain.class).loop(loop),
                            Exchange.<String, String>messages(codecs, String.class))
                    .children(2).maxInFlightPerChild(8).start();
            List<LoopFuture<String>> replies = new ArrayList<>();
            for (int i = 0; i < 500; i++) {
                replies.add(pool.submit("word" + i));
            }
            RemoteException e = failsWith(RemoteException.class, pool.submit("fail"));
            for (int i = 0; i < 500; i++) {
                assertEquals("WORD" + i, get(replies.get(i)));
            }
            assertEquals("AFTER", get(pool.submit("after")));
            PoolMetrics m = pool.metrics();
            assertEquals(0, m.restarts(), m.toString());
            assertEquals(1L, m.failedByCause().get(FailureCause.REQUEST), e.getMessage());
            get(pool.shutdown(java.time.Duration.ofSeconds(10)));
        }
    }
}
