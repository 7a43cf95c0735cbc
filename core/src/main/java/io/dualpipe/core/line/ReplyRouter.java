package io.dualpipe.core.line;

/**
 * The reading side of a {@link Conversation}: takes each reply line the loop reads and hands it to
 * the request it answers (the head of the FIFO queue, or the request whose id it carries), or to
 * the unsolicited lines when no request waits for it. Loop thread only; it takes the
 * conversation's lock only to look requests up and take them off, and feeds them outside it, since
 * a {@link ReplyReader} is user code.
 */
final class ReplyRouter implements LineReader.Listener {
    private final Conversation c;

    ReplyRouter(Conversation c) {
        this.c = c;
    }

    @Override
    public void onLine(String line) {
        if (c.byId) {
            replyById(line);
        } else {
            reply(line);
        }
    }

    @Override
    public void onLineTooLong(LineTooLongException e) {
        tooLong(e);
    }

    @Override
    public void onEnd() {
        c.end(null); // the usual ChannelClosedException, made only if a request is there to get it
    }

    @Override
    public void onError(Throwable error) {
        c.end(error);
    }

    /** Loop thread: a line, in FIFO order. */
    private void reply(String line) {
        PendingReply<?> head;
        synchronized (c.lock) {
            head = c.fifo.peek();
        }
        if (head == null) {
            c.unsolicited.dropped(line, c.isBroken() ? " (the conversation is broken)" : "");
            return;
        }
        // The head is fed outside the lock (a ReplyReader is user code); only this loop thread
        // removes entries but breakWith, which takes them all, so it is still the head unless broken.
        if (feed(head, line)) {
            retire(head);
            head.finish();
        }
    }

    /** Loop thread: a line, correlated by id. A line whose id matches no outstanding request goes to no request. */
    private void replyById(String line) {
        int space = line.indexOf(' ');
        int end = space < 0 ? line.length() : space;
        long id = c.ids.parse(line, end);
        PendingReply<?> p;
        String why = null;
        synchronized (c.lock) {
            p = id > 0 ? c.ids.get(id) : null;
            if (p == null) {
                why = c.ids.whyUnmatched(line, end, id);
            }
        }
        if (p == null) {
            c.unsolicited.dropped(line, why);
            return;
        }
        if (feed(p, space < 0 ? "" : line.substring(space + 1))) {
            synchronized (c.lock) {
                c.ids.remove(p);
            }
            c.unsolicited.matched();
            p.finish();
        }
    }

    /** Feeds a reply line; a reader that throws fails its request and, in FIFO order, breaks the conversation. */
    private boolean feed(PendingReply<?> p, String line) {
        try {
            return p.take(line);
        } catch (RuntimeException e) {
            if (c.byId) {
                synchronized (c.lock) {
                    c.ids.remove(p);
                }
                p.fail(e);
            } else {
                p.fail(e);
                c.breakWith("the reply reader of request '" + RequestLine.shorten(p.request) + "' threw " + e, e);
            }
            return false;
        }
    }

    /** Loop thread: an over-long reply line was skipped. */
    private void tooLong(LineTooLongException e) {
        if (c.byId) {
            // Its id went with it: the request it belongs to fails by its timeout.
            c.unsolicited.skipped("an over-long reply line (" + e.getMessage() + "); its request fails by its timeout");
            return;
        }
        PendingReply<?> head;
        synchronized (c.lock) {
            head = c.fifo.peek();
        }
        if (head == null) {
            c.unsolicited.skipped("an over-long line no request waits for (" + e.getMessage() + ")");
            return;
        }
        if (head.reader != null) {
            // Which of the lines after it still belong to this reply is unknown.
            head.fail(e);
            c.breakWith("an over-long line in the reply to request '" + RequestLine.shorten(head.request) + "'", e);
            return;
        }
        retire(head);
        head.fail(e);
    }

    /** Takes the answered head out of the FIFO (unless broken meanwhile) and lets the next request out. */
    private void retire(PendingReply<?> head) {
        synchronized (c.lock) {
            if (c.fifo.peek() == head) {
                c.fifo.poll();
                head.removed = true;
            }
        }
        c.unsolicited.matched();
        c.sendNext();
    }
}
