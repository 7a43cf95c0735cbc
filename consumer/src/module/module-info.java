/** The README's first snippet as a named module: DualPipe's modules on the module path. */
module hello {
    requires io.dualpipe.transport;
}
