package dev.loomecho.cli;

import dev.loomecho.Engine;
import java.util.Arrays;
import java.util.Iterator;
import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.TypeConversionException;

/** {@code --engine virtual}: engines go by their lower-case names on the command line. */
final class EngineConverter implements ITypeConverter<Engine> {

    @Override
    public Engine convert(String value) {
        try {
            return Engine.fromCliName(value);
        } catch (IllegalArgumentException e) {
            throw new TypeConversionException(e.getMessage());
        }
    }

    /** Completion candidates, so {@code --help} lists the engines by the names it accepts. */
    static final class Names implements Iterable<String> {
        @Override
        public Iterator<String> iterator() {
            return Arrays.stream(Engine.values()).map(Engine::cliName).iterator();
        }
    }
}
