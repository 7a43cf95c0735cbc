package io.dualpipe.core.internal;

/** The thread of a DualPipe event loop; its type is how blocking calls recognise the loop cheaply. */
public final class LoopThread extends Thread {
    LoopThread(Runnable body, String name, boolean daemon) {
        super(body, name);
        setDaemon(daemon);
    }
}
