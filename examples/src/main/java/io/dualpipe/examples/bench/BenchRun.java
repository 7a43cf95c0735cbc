package io.dualpipe.examples.bench;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;

import static io.dualpipe.examples.bench.ProcessBench.check;

/**
 * One {@link ProcessBench} invocation's {@code key=value} arguments and the summary table its
 * workloads add rows to (printed by {@code main} after the RESULT lines). Used by the main thread only.
 */
final class BenchRun {
    final Map<String, String> args;
    private final List<String[]> table = new ArrayList<>();

    BenchRun(Map<String, String> args) {
        this.args = args;
    }

    long num(String key, long dflt) {
        String v = args.get(key);
        return v == null ? dflt : Long.decode(v.replace("_", ""));
    }

    String str(String key, String dflt) {
        return args.getOrDefault(key, dflt);
    }

    boolean runs(String impl) {
        String want = str("impl", "both");
        return want.equals("both") || want.equals(impl);
    }

    /** One table row: lower-is-better metrics print the ratio as dualpipe/jdk as well. */
    void row(String workload, String metric, double dp, double jdk) {
        table.add(new String[] {workload, metric, fmt(dp), fmt(jdk),
                Double.isNaN(dp) || Double.isNaN(jdk) || jdk == 0 ? "-" : String.format(Locale.ROOT, "%.2f", dp / jdk)});
    }

    static String fmt(double v) {
        if (Double.isNaN(v)) {
            return "-";
        }
        return v >= 100 ? String.format(Locale.ROOT, "%.0f", v) : String.format(Locale.ROOT, "%.2f", v);
    }

    void printTable() {
        if (table.isEmpty()) {
            return;
        }
        System.out.println();
        System.out.printf(Locale.ROOT, "%-10s %-22s %12s %12s %14s%n", "workload", "metric", "dualpipe", "jdk", "dualpipe/jdk");
        for (String[] r : table) {
            System.out.printf(Locale.ROOT, "%-10s %-22s %12s %12s %14s%n", (Object[]) r);
        }
    }

    /** 63 printable chars (for linelen=64), without the newline. */
    static String makeLine(int lineLen) {
        check(lineLen >= 2, "linelen must be >= 2");
        StringBuilder sb = new StringBuilder(lineLen - 1);
        for (int i = 0; i < lineLen - 1; i++) {
            sb.append((char) ('a' + i % 26));
        }
        return sb.toString();
    }
}
