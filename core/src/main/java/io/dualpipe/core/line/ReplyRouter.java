package io.dualpipe.core.line;

/**
 * The reading side of a {@link Conversation}: takes each reply line the loop reads and hands it to
 * the request it answers (the head of the FIFO queue, or the request whose id it carries), or to
 * the unsolicited lines when no request waits for it. It works on the conversation's
 * {@link RequestQueue} directly: takes answered requests off, lets the next one out, and breaks or
 * ends the queue. Loop thread only; it takes the queue's lock only to look requests up and take
 * them off, and feeds them outside it, since a {@link ReplyReader} is user code.
 */
final class ReplyRouter implements LineReader.Listener {
    private final RequestQueue requests;
    private final UnsolicitedLines unsolicited;

    ReplyRouter(RequestQueue requests, UnsolicitedLines unsolicited) {
        this.requests = requests;
        this.unsolicited = unsolicited;
    }

    @Override
    public void onLine(String line) {
        if (requests.byId) {
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
        requests.end(null); // the usual ChannelClosedException, made only if a request is there to get it
    }

    @Override
    public void onError(Throwable error) {
        requests.end(error);
    }

    /** Loop thread: a line, in FIFO order. */
    private void reply(String line) {
        PendingReply<?> head;
        synchronized (requests.lock) {
            head = requests.fifo.peek();
        }
        if (head == null) {
            unsolicited.dropped(line, requests.isBroken() ? " (the conversation is broken)" : "");
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
        long id = requests.ids.parse(line, end);
        PendingReply<?> p;
        String why = null;
        synchronized (requests.lock) {
            p = id > 0 ? requests.ids.get(id) : null;
            if (p == null) {
                why = requests.ids.whyUnmatched(line, end, id);
            }
        }
        if (p == null) {
            unsolicited.dropped(line, why);
            return;
        }
        if (feed(p, space < 0 ? "" : line.substring(space + 1))) {
            synchronized (requests.lock) {
                requests.ids.remove(p);
            }
            unsolicited.matched();
            p.finish();
        }
    }

    /** Feeds a reply line; a reader that throws fails its request and, in FIFO order, breaks the conversation. */
    private boolean feed(PendingReply<?> p, String line) {
        try {
            return p.take(line);
        } catch (RuntimeException e) {
            if (requests.byId) {
                synchronized (requests.lock) {
                    requests.ids.remove(p);
                }
                p.fail(e);
            } else {
                p.fail(e);
                requests.breakWith("the reply reader of request '" + RequestLine.shorten(p.request) + "' threw " + e, e);
            }
            return false;
        }
    }

    /** Loop thread: an over-long reply line was skipped. */
    private void tooLong(LineTooLongException e) {
        if (requests.byId) {
            // Its id went with it: the request it belongs to fails by its timeout.
            unsolicited.skipped("an over-long reply line (" + e.getMessage() + "); its request fails by its timeout");
            return;
        }
        PendingReply<?> head;
        synchronized (requests.lock) {
            head = requests.fifo.peek();
        }
        if (head == null) {
            unsolicited.skipped("an over-long line no request waits for (" + e.getMessage() + ")");
            return;
        }
        if (head.reader != null) {
            // Which of the lines after it still belong to this reply is unknown.
            head.fail(e);
            requests.breakWith("an over-long line in the reply to request '" + RequestLine.shorten(head.request) + "'", e);
            return;
        }
        retire(head);
        head.fail(e);
    }

    /** Takes the answered head out of the FIFO (unless broken meanwhile) and lets the next request out. */
    private void retire(PendingReply<?> head) {
        synchronized (requests.lock) {
            if (requests.fifo.peek() == head) {
                requests.fifo.poll();
                head.removed = true;
            }
        }
        unsolicited.matched();
        requests.sendNext();
    }
}
