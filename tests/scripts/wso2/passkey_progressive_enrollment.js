// Passkey progressive enrollment: a user who asks to create a passkey on the passkey page signs in with their
// password first (the passkey option removed from that try), then registers a passkey in the same login.
var onLoginRequest = function (context) {
    executeStep(1, {
        onFail: function (context) {
            var scenario = context.request.params.scenario;
            // the passkey page's "create one": the enrollment request
            if (scenario != null && scenario[0] == 'INIT_FIDO_ENROLL') {
                executeStep(1, {
                    stepOptions: {markAsSubjectIdentifierStep: 'true', markAsSubjectAttributeStep: 'true'},
                    authenticationOptions: [{authenticator: 'BasicAuthenticator'}]
                }, {
                    onSuccess: function (context) {
                        // back to the passkey authenticator, which now registers one
                        executeStep(1, {
                            stepOptions: {forceAuth: 'true'},
                            authenticationOptions: [{authenticator: 'FIDOAuthenticator'}]
                        }, {});
                    }
                });
            }
        }
    });
};
