// `pnpm demo`: starts the echo demo (examples/echo) once it exists.
console.log("The echo demo is not there yet: it arrives with the demo issue (examples/echo).");
